// Tests for the receiving ESMTP state machine: whole, split at every byte, limits, garbage.
#include "lbmail/smtp/smtp_server_protocol.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>
#include <vector>

namespace lbmail::smtp {
namespace {

class RecordingPolicy : public SmtpServerProtocol::Policy {
 public:
  SmtpServerProtocol::Decision onMail(std::string_view sender) override {
    senders.emplace_back(sender);
    return {250, "2.1.0", "Ok"};
  }
  SmtpServerProtocol::Decision onRecipient(std::string_view address) override {
    if (address.starts_with("bad")) return {550, "5.1.1", "No such user"};
    return {250, "2.1.5", "Ok"};
  }
  SmtpServerProtocol::Decision onMessage(const ReceivedMessage& m) override {
    sizes.push_back(m.size);
    hashes.push_back(m.body_hash);
    message_ids.emplace_back(m.message_id);
    lbmail_ids.emplace_back(m.lbmail_id);
    bodies.emplace_back(m.body);
    recipients.push_back(m.recipients->size());
    return {250, "2.0.0", "Ok: queued"};
  }
  bool keepBodies() const override { return true; }
  bool reserveBody(size_t bytes) override {
    if (held + bytes > budget) return false;
    held += bytes;
    return true;
  }
  void releaseBody(size_t bytes) override { held -= bytes; }

  size_t budget = SIZE_MAX;  // bytes of kept body the receiver allows
  size_t held = 0;
  std::vector<uint64_t> sizes, hashes;
  std::vector<std::string> message_ids, lbmail_ids, bodies, senders;
  std::vector<size_t> recipients;
};

std::vector<int> codes(const std::vector<ServerReply>& replies) {
  std::vector<int> out;
  for (const ServerReply& r : replies) out.push_back(r.code);
  return out;
}

struct Session {
  RecordingPolicy policy;
  SmtpServerProtocol::Limits limits;
  std::unique_ptr<SmtpServerProtocol> protocol;
  std::vector<ServerReply> replies;

  Session() { reset(); }
  void reset() {
    protocol = std::make_unique<SmtpServerProtocol>("sink.test", limits, policy);
    replies.clear();
  }
  void feed(std::string_view bytes) { protocol->feed(bytes, replies); }
};

const std::string kTransaction =
    "EHLO client.test\r\n"
    "MAIL FROM:<a@x.test> SIZE=100\r\n"
    "RCPT TO:<b@y.test>\r\n"
    "RCPT TO:<bad@y.test>\r\n"
    "RCPT TO:<c@y.test>\r\n"
    "DATA\r\n"
    "Message-ID: <m1@x.test>\r\n"
    "X-Lbmail-Id: 42\r\n"
    "\r\n"
    "hello\r\n"
    "..stuffed\r\n"
    ".\r\n"
    "QUIT\r\n";

const std::string kBody = "Message-ID: <m1@x.test>\r\nX-Lbmail-Id: 42\r\n\r\nhello\r\n.stuffed\r\n";

void expectTransaction(const Session& s) {
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 550, 250, 354, 250, 221}));
  ASSERT_EQ(s.policy.bodies.size(), 1u);
  EXPECT_EQ(s.policy.bodies[0], kBody);
  EXPECT_EQ(s.policy.sizes[0], kBody.size());
  EXPECT_EQ(s.policy.hashes[0], XXH3_64bits(kBody.data(), kBody.size()));
  EXPECT_EQ(s.policy.message_ids[0], "<m1@x.test>");
  EXPECT_EQ(s.policy.lbmail_ids[0], "42");
  EXPECT_EQ(s.policy.recipients[0], 2u);
  EXPECT_TRUE(s.protocol->closed());
}

TEST(SmtpServerProtocol, GreetsWith220) {
  Session s;
  ServerReply g = s.protocol->greeting();
  EXPECT_EQ(g.code, 220);
  EXPECT_EQ(g.kind, ServerReply::Kind::kGreeting);
  EXPECT_EQ(g.text, "220 sink.test ESMTP lbmail sink\r\n");
}

TEST(SmtpServerProtocol, PipelinedTransactionFedWhole) {
  Session s;
  s.feed(kTransaction);
  expectTransaction(s);
  EXPECT_EQ(s.replies[6].kind, ServerReply::Kind::kEndOfData);
  EXPECT_NE(s.replies[0].text.find("250-PIPELINING\r\n"), std::string::npos);
  EXPECT_NE(s.replies[0].text.find("250-CHUNKING\r\n"), std::string::npos);
  EXPECT_NE(s.replies[0].text.find("250 ENHANCEDSTATUSCODES\r\n"), std::string::npos);
}

TEST(SmtpServerProtocol, SameResultSplitAtEveryByteAndByteByByte) {
  for (size_t cut = 0; cut <= kTransaction.size(); ++cut) {
    Session s;
    s.feed(std::string_view(kTransaction).substr(0, cut));
    s.feed(std::string_view(kTransaction).substr(cut));
    expectTransaction(s);
  }
  Session s;
  for (char c : kTransaction) s.feed(std::string_view(&c, 1));
  expectTransaction(s);
}

TEST(SmtpServerProtocol, BdatChunksMakeOneMessage) {
  Session s;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nBDAT 6\r\nhello\nBDAT 3 LAST\r\n.x\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 250, 250}));
  EXPECT_EQ(s.replies[3].text, "250 2.0.0 6 octets received\r\n");
  EXPECT_EQ(s.replies[4].kind, ServerReply::Kind::kEndOfData);
  ASSERT_EQ(s.policy.bodies.size(), 1u);
  EXPECT_EQ(s.policy.bodies[0], "hello\n.x\n");  // no dot handling in BDAT
}

TEST(SmtpServerProtocol, BdatSplitAtEveryByteGivesTheSameReplies) {
  // A BDAT line adds no reply until its chunk has arrived: the error count must cope.
  const std::string input = "EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nBDAT 6\r\nhello\nBDAT 3 LAST\r\n.x\n";
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    Session s;
    s.feed(std::string_view(input).substr(0, cut));
    s.feed(std::string_view(input).substr(cut));
    EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 250, 250})) << cut;
    ASSERT_EQ(s.policy.bodies.size(), 1u) << cut;
    EXPECT_EQ(s.policy.bodies[0], "hello\n.x\n");
  }
}

TEST(SmtpServerProtocol, BdatWithoutRecipientsIsReadThenRefused) {
  Session s;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bad@y.test>\r\nBDAT 5 LAST\r\nRSET\r\nNOOP\r\n");
  // The 5 bytes "RSET\r" are the chunk; "\nNOOP" follows as a command line.
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 550, 554, 500, 250}));
  EXPECT_TRUE(s.policy.bodies.empty());
}

TEST(SmtpServerProtocol, DataAfterEveryRecipientFailedIsRefused) {
  Session s;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<bad@y.test>\r\nDATA\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 550, 554}));
  EXPECT_FALSE(s.protocol->inData());
}

TEST(SmtpServerProtocol, SequenceErrorsAre503) {
  Session s;
  s.feed("MAIL FROM:<a@x.test>\r\nHELO c\r\nRCPT TO:<b@y.test>\r\nDATA\r\nMAIL FROM:<a@x.test>\r\nMAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{503, 250, 503, 503, 250, 503}));
}

TEST(SmtpServerProtocol, OverlongCommandLineIs500AndTheSessionGoesOn) {
  Session s;
  s.feed("EHLO " + std::string(600, 'a') + "\r\nNOOP\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{500, 250}));
  EXPECT_EQ(s.replies[0].text, "500 5.5.6 Line too long\r\n");
}

TEST(SmtpServerProtocol, CommandLineOfExactly512OctetsIsAccepted) {
  Session s;
  std::string line = "NOOP " + std::string(512 - 7, 'a') + "\r\n";
  ASSERT_EQ(line.size(), 512u);
  s.feed(line);
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250}));
}

TEST(SmtpServerProtocol, OversizeMessageIsReadToItsEndThenRefused) {
  Session s;
  s.limits.max_message_size = 100;
  s.reset();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" + std::string(500, 'x') +
         "\r\n.\r\nNOOP\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 354, 552, 250}));
  EXPECT_TRUE(s.policy.bodies.empty());
}

TEST(SmtpServerProtocol, AMessageOverTheLimitKeepsNoBodyBytesWhileItIsStillArriving) {
  Session s;
  s.limits.max_message_size = 64 * 1024;
  s.reset();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nSubject: big\r\n\r\n");
  std::string line(998, 'x');
  line += "\r\n";
  for (int i = 0; i < 60; ++i) s.feed(line);
  EXPECT_GE(s.protocol->bufferedBytes(), 50u * 1000);  // under the limit: the body is kept
  EXPECT_EQ(s.policy.held, 60u * 1000 + 16);
  for (int i = 0; i < 1000; ++i) s.feed(line);  // 1 MB: sixteen times the limit
  EXPECT_EQ(s.protocol->bufferedBytes(), 0u);
  EXPECT_EQ(s.policy.held, 0u);
  s.feed(".\r\n");
  EXPECT_EQ(codes(s.replies).back(), 552);
}

TEST(SmtpServerProtocol, BuffersAreFreedAfterEachMessage) {
  Session s;
  std::string lines;
  for (int i = 0; i < 100; ++i) lines += std::string(998, 'x') + "\r\n";
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n\r\n" + lines + ".\r\n");
  ASSERT_EQ(s.policy.sizes.size(), 1u);
  EXPECT_EQ(s.protocol->bufferedBytes(), 0u);
  EXPECT_EQ(s.policy.held, 0u);
}

TEST(SmtpServerProtocol, ABodyBeyondTheReceiversMemoryIs452AndTheNextOneFits) {
  Session s;
  s.policy.budget = 1000;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" + std::string(750, 'x') + "\r\n" +
         std::string(750, 'x') + "\r\n.\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nsmall\r\n.\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 354, 452, 250, 250, 354, 250}));
  EXPECT_NE(s.replies[4].text.find("4.3.1"), std::string::npos);
  ASSERT_EQ(s.policy.bodies.size(), 1u);
  EXPECT_EQ(s.policy.bodies[0], "small\r\n");
  EXPECT_EQ(s.policy.held, 0u);
}

TEST(SmtpServerProtocol, DeclaredSizeOverTheLimitIsRefusedAtMail) {
  Session s;
  s.limits.max_message_size = 100;
  s.reset();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test> SIZE=101\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 552}));
}

TEST(SmtpServerProtocol, TextLineOver1000OctetsIsRefusedAtEndOfData) {
  Session s;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" + std::string(999, 'x') +
         "\r\n.\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 354, 554}));
  Session ok;
  ok.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" + std::string(998, 'x') + "\r\n.\r\n");
  EXPECT_EQ(codes(ok.replies), (std::vector<int>{250, 250, 250, 354, 250}));
}

TEST(SmtpServerProtocol, TooManyRecipientsIs452) {
  Session s;
  s.limits.max_recipients = 2;
  s.reset();
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<1@y.test>\r\nRCPT TO:<2@y.test>\r\nRCPT TO:<3@y.test>\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 250, 452}));
}

TEST(SmtpServerProtocol, GarbageIsRefusedThenCutOff) {
  Session s;
  std::string garbage;
  for (int i = 0; i < 20; ++i) garbage += "\x16\x03\x01 nonsense\r\n";
  s.feed(garbage);
  ASSERT_EQ(s.replies.size(), 11u);  // ten 500s, then 421, then nothing
  EXPECT_EQ(s.replies.back().code, 421);
  EXPECT_TRUE(s.replies.back().close_after);
  EXPECT_TRUE(s.protocol->closed());
}

TEST(SmtpServerProtocol, BareLfAndCrInBodyAreKept) {
  Session s;
  s.feed("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@y.test>\r\nDATA\r\na\rb\n.\rc\r\n.\n\r\n.\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 354, 250}));
  ASSERT_EQ(s.policy.bodies.size(), 1u);
  // A bare LF starts no line, so the dot after it is content; after CR LF, ".\n" is a stuffed
  // dot followed by a bare LF, and ends nothing (RFC 5321 section 4.1.1.4).
  EXPECT_EQ(s.policy.bodies[0], "a\rb\n.\rc\r\n\n\r\n");
}

// SMTP smuggling: <LF>.<LF>, <LF>.<CR><LF> and <CR><LF>.<LF> must not end DATA, or the bytes
// after them would be read as a second transaction from a sender nobody authorised.
TEST(SmtpServerProtocol, OnlyCrLfDotCrLfEndsData) {
  for (std::string_view end : {"\n.\n", "\n.\r\n", "\r\n.\n"}) {
    std::string stream = "HELO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nhello";
    stream += end;
    stream += "MAIL FROM:<smuggled@attacker.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nevil\r\n.\r\n";
    for (bool byte_by_byte : {false, true}) {
      Session s;
      if (byte_by_byte) {
        for (char c : stream) s.feed(std::string_view(&c, 1));
      } else {
        s.feed(stream);
      }
      EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 354, 250})) << testing::PrintToString(end);
      ASSERT_EQ(s.policy.bodies.size(), 1u);
      EXPECT_NE(s.policy.bodies[0].find("smuggled@attacker.test"), std::string::npos);  // content, not a command
      EXPECT_TRUE(s.policy.bodies[0].ends_with("evil\r\n"));
    }
  }
}

TEST(SmtpServerProtocol, QuotedLocalPartsAreAccepted) {
  Session s;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<\"quoted local\"@y.test>\r\nRCPT TO:<\"a\\\" >\"@y.test> X=1\r\n"
         "RCPT TO:<\"a b@y.test>\r\nRCPT TO:<a b@y.test>\r\nRCPT TO:<\"a\\\x01\"@y.test>\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 250, 250, 501, 501, 501}));
}

TEST(SmtpServerProtocol, AddressesWithControlCharactersAreRefused) {
  Session s;
  s.feed("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b\x01@y.test>\r\nRCPT TO:<noatsign>\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 250, 501, 501}));
}

// STARTTLS (RFC 3207).

TEST(SmtpServerProtocol, StartTlsIsOfferedOnlyWhenEnabledAndUntilTlsIsUp) {
  Session s;
  s.feed("EHLO c\r\nSTARTTLS\r\n");
  EXPECT_EQ(s.replies[0].text.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(s.replies[1].code, 502);
  EXPECT_FALSE(s.replies[1].start_tls);

  s.reset();
  s.protocol->offerStartTls(true);
  s.feed("EHLO c\r\nSTARTTLS\r\n");
  ASSERT_EQ(codes(s.replies), (std::vector<int>{250, 220}));
  EXPECT_NE(s.replies[0].text.find("250-STARTTLS\r\n"), std::string::npos);
  EXPECT_EQ(s.replies[1].text, "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_TRUE(s.replies[1].start_tls);
  EXPECT_TRUE(s.protocol->awaitingTls());
  EXPECT_FALSE(s.protocol->secured());
  s.protocol->tlsEstablished();
  EXPECT_TRUE(s.protocol->secured());
  s.replies.clear();
  s.feed("EHLO c\r\nSTARTTLS\r\n");
  ASSERT_EQ(codes(s.replies), (std::vector<int>{250, 503}));
  EXPECT_EQ(s.replies[0].text.find("STARTTLS"), std::string::npos);
  EXPECT_FALSE(s.replies[1].start_tls);
}

TEST(SmtpServerProtocol, AfterTlsTheSessionStartsOverAndWorks) {
  Session s;
  s.protocol->offerStartTls(true);
  s.feed("EHLO before.test\r\nSTARTTLS\r\n");
  s.protocol->tlsEstablished();
  s.replies.clear();
  // The EHLO given in plaintext counts for nothing (RFC 3207 section 4.2).
  s.feed("MAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{503}));
  s.replies.clear();
  s.feed(kTransaction);
  expectTransaction(s);
}

TEST(SmtpServerProtocol, CommandsPipelinedBehindStartTlsAreNeverExecuted) {
  const std::string kBefore = "EHLO c\r\nSTARTTLS\r\n";
  const std::string kInjected = "MAIL FROM:<evil@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n";
  // Whether the injected commands come in the same read as STARTTLS or in later ones.
  for (size_t split = 0; split <= kBefore.size() + kInjected.size(); ++split) {
    Session s;
    s.protocol->offerStartTls(true);
    std::string all = kBefore + kInjected;
    s.feed(std::string_view(all).substr(0, split));
    s.feed(std::string_view(all).substr(split));
    ASSERT_EQ(codes(s.replies), (std::vector<int>{250, 220})) << "split at " << split;
    EXPECT_EQ(s.protocol->bytesDiscardedBeforeTls(), kInjected.size()) << "split at " << split;
    s.protocol->tlsEstablished();
    s.replies.clear();
    s.feed("EHLO c\r\nRCPT TO:<b@y.test>\r\n");
    EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 503})) << "split at " << split;
    EXPECT_TRUE(s.policy.senders.empty()) << "split at " << split;
  }
}

TEST(SmtpServerProtocol, StartTlsWithArgumentsOrInATransactionIsRefused) {
  Session s;
  s.protocol->offerStartTls(true);
  s.feed("EHLO c\r\nSTARTTLS now\r\nMAIL FROM:<a@x.test>\r\nSTARTTLS\r\nRSET\r\nstarttls\r\n");
  EXPECT_EQ(codes(s.replies), (std::vector<int>{250, 501, 250, 503, 250, 220}));
  EXPECT_TRUE(s.protocol->awaitingTls());
}

}  // namespace
}  // namespace lbmail::smtp
