// Tests for the SMTP client's state machine without sockets: a server's byte stream is fed
// whole, split at every byte and byte by byte, and the bytes written, the timer phases, the
// transaction results and the end must be the same every time.
#include "lbmail/smtp/smtp_client_protocol.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>
#include "test_message.h"

namespace lbmail::smtp {
namespace {

using End = SmtpClientProtocol::End;
using State = SmtpClientProtocol::State;

using test::message;

SmtpClientSettings settings(bool pipelining = true, bool chunking = true) {
  SmtpClientSettings s;
  s.helo_name = "client.test";
  s.pipelining = pipelining;
  s.chunking = chunking;
  return s;
}

// One line per transaction: each recipient's deciding code, the message's reply, the reason.
std::string describe(const SmtpTransactionResult& r) {
  std::string s;
  for (const SmtpReply& x : r.recipients) s += std::to_string(x.code) + " ";
  return s + "| " + r.reply.summary() + " | " + r.reason;
}

// A session over a recording transport: sends its messages when ready (as many at once as the
// protocol takes when all_at_once), QUITs when they are done.
class Session final : public SmtpClientProtocol::Transport {
 public:
  Session(SmtpClientSettings s, std::vector<OutgoingMessage> messages, bool all_at_once = true,
          SmtpClientProtocol::StartTls tls = SmtpClientProtocol::StartTls::kNever)
      : settings_(std::move(s)), messages_(std::move(messages)), all_at_once_(all_at_once), protocol(settings_, *this) {
    protocol.setStartTls(tls);
    protocol.start();
  }

  void write(std::unique_ptr<SmtpClientWrite> w) override {
    std::string bytes;
    for (std::string_view s : w->slices) bytes.append(s);
    writes.push_back(std::move(bytes));
  }
  void armTimer(TimeoutPhase phase) override { phases.push_back(phase); }
  void onGreeting(const SmtpReply& greeting) override { greeting_code = greeting.code; }
  void onReady() override {
    if (!act_on_ready) return;
    if (next_ == messages_.size()) {
      protocol.quit();
      return;
    }
    protocol.cork();
    do {
      protocol.send(messages_[next_++], [this](SmtpTransactionResult&& r) { results.push_back(describe(r)); });
    } while (all_at_once_ && next_ < messages_.size() && protocol.acceptsMore());
    protocol.uncork();
  }
  void close() override { closed = true; }
  void startTls() override { ++tls_starts; }

  std::string wire() const {
    std::string all;
    for (const std::string& w : writes) all += w;
    return all;
  }

 private:
  SmtpClientSettings settings_;
  std::vector<OutgoingMessage> messages_;
  bool all_at_once_;
  size_t next_ = 0;

 public:
  SmtpClientProtocol protocol;
  std::vector<std::string> writes;
  std::vector<TimeoutPhase> phases;
  std::vector<std::string> results;
  int greeting_code = 0;
  bool closed = false;
  bool act_on_ready = true;
  int tls_starts = 0;
};

struct Transcript {
  std::vector<std::string> writes;
  std::vector<std::string> results;
  bool closed;
  End end;
  std::string reason;
};

Transcript run(const SmtpClientSettings& s, const std::vector<OutgoingMessage>& messages,
        const std::vector<std::string_view>& pieces, bool all_at_once = true) {
  Session session(s, messages, all_at_once);
  for (std::string_view p : pieces) session.protocol.receive(p);
  return {session.writes, session.results, session.closed, session.protocol.end(), session.protocol.endReason()};
}

// The server's bytes whole; checks that every other way of cutting them gives the same run.
Transcript runEveryCut(const SmtpClientSettings& s, const std::vector<OutgoingMessage>& messages, std::string_view server,
                bool all_at_once = true) {
  Transcript whole = run(s, messages, {server}, all_at_once);
  auto same = [&](const Transcript& other, const std::string& how) {
    EXPECT_EQ(other.writes, whole.writes) << how;
    EXPECT_EQ(other.results, whole.results) << how;
    EXPECT_EQ(other.closed, whole.closed) << how;
    EXPECT_EQ(other.end, whole.end) << how;
    EXPECT_EQ(other.reason, whole.reason) << how;
  };
  for (size_t i = 1; i < server.size(); ++i) {
    same(run(s, messages, {server.substr(0, i), server.substr(i)}, all_at_once), "split at " + std::to_string(i));
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < server.size(); ++i) bytes.push_back(server.substr(i, 1));
  same(run(s, messages, bytes, all_at_once), "byte by byte");
  return whole;
}

constexpr std::string_view kGreeting = "220 mx.test ESMTP\r\n";
constexpr std::string_view kEhloFull = "250-mx.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SIZE 100000\r\n";
constexpr std::string_view kEhloPipelining = "250-mx.test\r\n250 PIPELINING\r\n";
constexpr std::string_view kEhloPlain = "250 mx.test\r\n";

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view p : parts) s += p;
  return s;
}

TEST(SmtpClientProtocol, PipelinesMailAndRcptThenBdatWithTheBody) {
  std::string body = "Subject: x\r\n\r\n.dot\r\n";
  std::string server = cat({kGreeting, kEhloFull, "250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n",
                            "250 2.0.0 queued as A\r\n", "221 2.0.0 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message(body, {"b@y.test", "c@y.test"})}, server);
  ASSERT_EQ(r.writes.size(), 4u);
  EXPECT_EQ(r.writes[0], "EHLO client.test\r\n");
  std::string n = std::to_string(body.size());
  EXPECT_EQ(r.writes[1], "MAIL FROM:<a@x.test> SIZE=" + n + "\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\n");
  // BDAT carries the body as it is: no stuffing, no terminator (RFC 3030).
  EXPECT_EQ(r.writes[2], "BDAT " + n + " LAST\r\n" + body);
  EXPECT_EQ(r.writes[3], "QUIT\r\n");
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0], "250 250 | 250 2.0.0 queued as A | 250 2.0.0 queued as A");
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.end, End::kQuit);
}

TEST(SmtpClientProtocol, BdatTransactionsFollowEachOtherWithRset) {
  std::string server = cat({kGreeting, kEhloFull, "250 ok\r\n250 ok\r\n", "250 one\r\n250 ok\r\n250 ok\r\n250 ok\r\n",
                            "250 two\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("1\r\n"), message("22\r\n")}, server);
  ASSERT_EQ(r.writes.size(), 5u);
  EXPECT_EQ(r.writes[1], "MAIL FROM:<a@x.test> SIZE=3\r\nRCPT TO:<b@y.test>\r\n");
  // The next group rides behind the body; its RSET stays, as a refused BDAT need not reset.
  EXPECT_EQ(r.writes[2], "BDAT 3 LAST\r\n1\r\nRSET\r\nMAIL FROM:<a@x.test> SIZE=4\r\nRCPT TO:<b@y.test>\r\n");
  EXPECT_EQ(r.writes[3], "BDAT 4 LAST\r\n22\r\n");
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0], "250 | 250 one | 250 one");
  EXPECT_EQ(r.results[1], "250 | 250 two | 250 two");
}

// Issue 16, defect 13: with CHUNKING the whole body went out after every RCPT was refused.
TEST(SmtpClientProtocol, BdatSendsNoBodyWhenEveryRecipientWasRefused) {
  std::string server = cat({kGreeting, kEhloFull, "250 ok\r\n550 5.7.1 blocked\r\n550 5.7.1 blocked\r\n",
                            "250 ok\r\n250 ok\r\n250 ok\r\n", "250 second\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("secret\r\n", {"b@y.test", "c@y.test"}), message("fine\r\n")}, server);
  ASSERT_EQ(r.writes.size(), 5u);
  EXPECT_EQ(r.writes[1], "MAIL FROM:<a@x.test> SIZE=8\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\n");
  // No BDAT for the first: the RSET clears the server's transaction before the second.
  EXPECT_EQ(r.writes[2], "RSET\r\nMAIL FROM:<a@x.test> SIZE=6\r\nRCPT TO:<b@y.test>\r\n");
  EXPECT_EQ(r.writes[3], "BDAT 6 LAST\r\nfine\r\n");
  EXPECT_EQ(r.writes[4], "QUIT\r\n");
  EXPECT_EQ(r.results, (std::vector<std::string>{"550 550 | 550 5.7.1 blocked | 550 5.7.1 blocked",
                                                 "250 | 250 second | 250 second"}));
  Transcript alone = runEveryCut(settings(), {message("secret\r\n")},
                                 cat({kGreeting, kEhloFull, "503 5.5.1 sender first\r\n503 5.5.1 no\r\n", "221 bye\r\n"}));
  EXPECT_EQ(alone.writes, (std::vector<std::string>{"EHLO client.test\r\n", "MAIL FROM:<a@x.test> SIZE=8\r\nRCPT TO:<b@y.test>\r\n",
                                                    "QUIT\r\n"}));
}

TEST(SmtpClientProtocol, PipelinedDataStuffsDotsAndChainsTheNextGroupBehindTheMarker) {
  std::string server = cat({kGreeting, kEhloPipelining, "250 ok\r\n250 ok\r\n354 go\r\n", "250 first\r\n",
                            "250 ok\r\n250 ok\r\n354 go\r\n250 second\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message(".a\r\nb"), message("c\r\n")}, server);
  ASSERT_EQ(r.writes.size(), 5u);
  EXPECT_EQ(r.writes[1], "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
  // Right behind the end-of-data marker the RSET is left out (RFC 5321 section 4.1.1.4).
  EXPECT_EQ(r.writes[2], "..a\r\nb\r\n.\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
  EXPECT_EQ(r.writes[3], "c\r\n.\r\n");
  EXPECT_EQ(r.writes[4], "QUIT\r\n");
  EXPECT_EQ(r.results, (std::vector<std::string>{"250 | 250 first | 250 first", "250 | 250 second | 250 second"}));
}

TEST(SmtpClientProtocol, WithoutPipeliningEveryCommandWaitsForItsReply) {
  std::string server =
      cat({kGreeting, kEhloPlain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 done\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("hello\r\n")}, server);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"EHLO client.test\r\n", "MAIL FROM:<a@x.test>\r\n", "RCPT TO:<b@y.test>\r\n",
                                                "DATA\r\n", "hello\r\n.\r\n", "QUIT\r\n"}));
  EXPECT_EQ(r.results, (std::vector<std::string>{"250 | 250 done | 250 done"}));
}

TEST(SmtpClientProtocol, LockStepStopsBeforeDataWhenEveryRecipientFailed) {
  std::string server = cat({kGreeting, kEhloPlain, "250 ok\r\n", "550 5.1.1 no such user\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n")}, server);
  EXPECT_EQ(r.writes, (std::vector<std::string>{"EHLO client.test\r\n", "MAIL FROM:<a@x.test>\r\n", "RCPT TO:<b@y.test>\r\n",
                                                "QUIT\r\n"}));
  EXPECT_EQ(r.results, (std::vector<std::string>{"550 | 550 5.1.1 no such user | 550 5.1.1 no such user"}));
}

TEST(SmtpClientProtocol, SendsALoneDotWhenDataIsAcceptedAfterEveryRecipientFailed) {
  // RFC 2920 section 3.1: the DATA went out with the RCPTs; the server took it although it
  // refused every recipient. A lone "." ends it, and the reply to it decides nothing.
  std::string server = cat({kGreeting, kEhloPipelining, "250 ok\r\n550 5.1.1 no\r\n551 5.1.6 gone\r\n354 go\r\n",
                            "554 5.5.1 no valid recipients\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("secret\r\n", {"b@y.test", "c@y.test"})}, server);
  ASSERT_EQ(r.writes.size(), 4u);
  EXPECT_EQ(r.writes[2], ".\r\n");
  EXPECT_EQ(r.results, (std::vector<std::string>{"550 551 | 550 5.1.1 no | 550 5.1.1 no"}));
}

TEST(SmtpClientProtocol, OneRefusedRecipientKeepsItsOwnReply) {
  std::string server = cat({kGreeting, kEhloPipelining, "250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n",
                            "250 queued\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n", {"b@y.test", "nobody@y.test"})}, server);
  EXPECT_EQ(r.results, (std::vector<std::string>{"250 550 | 550 5.1.1 unknown | 550 5.1.1 unknown"}));
}

TEST(SmtpClientProtocol, FallsBackToHeloWhenEhloIsRefused) {
  std::string server = cat({kGreeting, "502 5.5.1 EHLO not here\r\n", "250 mx.test\r\n", "250 ok\r\n", "250 ok\r\n",
                            "354 go\r\n", "250 done\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n")}, server);
  ASSERT_GE(r.writes.size(), 3u);
  EXPECT_EQ(r.writes[1], "HELO client.test\r\n");
  EXPECT_EQ(r.writes[2], "MAIL FROM:<a@x.test>\r\n");  // no SIZE: not ESMTP
  EXPECT_EQ(r.results, (std::vector<std::string>{"250 | 250 done | 250 done"}));
}

TEST(SmtpClientProtocol, ReadsMultiLineReplies) {
  std::string server =
      cat({kGreeting, kEhloFull, "250 ok\r\n250 ok\r\n250-2.0.0 queued\r\n250 2.0.0 as C\r\n", "221 bye\r\n"});
  Session s(settings(), {message("x\r\n")});
  s.protocol.receive(server);
  EXPECT_TRUE(s.protocol.capabilities().pipelining);
  EXPECT_TRUE(s.protocol.capabilities().chunking);
  EXPECT_EQ(s.protocol.capabilities().size_limit, 100000u);
  EXPECT_EQ(s.results, (std::vector<std::string>{"250 | 250 2.0.0 queued | 250 2.0.0 queued"}));
  runEveryCut(settings(), {message("x\r\n")}, server);
}

TEST(SmtpClientProtocol, MalformedReplyDefersTheMessageAsAProtocolError) {
  std::string server = cat({kGreeting, kEhloFull, "250 ok\r\nhello there\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n")}, server);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.end, End::kProtocol);
  ASSERT_EQ(r.results.size(), 1u);
  // No reply decided the recipient: code 0, try again later.
  EXPECT_EQ(r.results[0], "0 | 0 | malformed reply: reply line without a code");
}

TEST(SmtpClientProtocol, OverlongReplyIsAProtocolError) {
  std::string server = cat({kGreeting, kEhloFull, "250 ok\r\n250 " + std::string(3000, 'x') + "\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n")}, server);
  EXPECT_EQ(r.end, End::kProtocol);
  EXPECT_EQ(r.results, (std::vector<std::string>{"0 | 0 | malformed reply: reply line longer than 2048 bytes"}));
}

TEST(SmtpClientProtocol, ServiceClosingMidTransactionDefersEveryRecipient) {
  std::string server = cat({kGreeting, kEhloFull, "250 ok\r\n421 4.3.2 shutting down\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n", {"b@y.test", "c@y.test"})}, server);
  EXPECT_EQ(r.end, End::kServiceClosing);
  EXPECT_EQ(r.reason, "421 4.3.2 shutting down");
  EXPECT_EQ(r.results, (std::vector<std::string>{"421 421 | 421 4.3.2 shutting down | 421 4.3.2 shutting down"}));
}

TEST(SmtpClientProtocol, RefusedGreetingEndsTheSession) {
  Transcript refused = runEveryCut(settings(), {}, "421 4.3.2 Too busy\r\n");
  EXPECT_EQ(refused.end, End::kGreetingFailed);
  EXPECT_EQ(refused.reason, "greeting: 421 4.3.2 Too busy");
  EXPECT_EQ(refused.writes.size(), 0u);
}

TEST(SmtpClientProtocol, RepliesNobodyAskedForEndTheSession) {
  Session closing(settings(), {});
  closing.act_on_ready = false;
  closing.protocol.receive(cat({kGreeting, kEhloFull, "421 4.3.2 bye\r\n"}));
  // A server may announce 421 at any time before closing (RFC 5321 section 3.8).
  EXPECT_EQ(closing.protocol.end(), End::kServiceClosing);
  EXPECT_EQ(closing.protocol.endReason(), "reply nobody asked for: 421 4.3.2 bye");
  Session chatty(settings(), {});
  chatty.act_on_ready = false;
  chatty.protocol.receive(cat({kGreeting, kEhloFull, "250 what\r\n"}));
  EXPECT_EQ(chatty.protocol.end(), End::kProtocol);
  // After our QUIT's 221 nothing more is read.
  Transcript goodbye = runEveryCut(settings(), {}, cat({kGreeting, kEhloFull, "221 bye\r\n421 late\r\n"}));
  EXPECT_EQ(goodbye.end, End::kQuit);
}

TEST(SmtpClientProtocol, DataAnsweredWith250IsAProtocolError) {
  Transcript r = runEveryCut(settings(), {message("x\r\n")}, cat({kGreeting, kEhloPipelining, "250 ok\r\n250 ok\r\n250 ok\r\n"}));
  EXPECT_EQ(r.end, End::kProtocol);
  EXPECT_EQ(r.reason, "DATA answered with 250 ok instead of 354");
}

// RFC 5321 section 4.1.2: a Quoted-string local part goes into RCPT as it is, blanks included.
TEST(SmtpClientProtocol, QuotedLocalPartsAreSentAsTheyAre) {
  std::string server =
      cat({kGreeting, kEhloPipelining, "250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n", "221 bye\r\n"});
  Transcript r = runEveryCut(settings(), {message("x\r\n", {"\"quoted local\"@y.test"})}, server);
  ASSERT_GE(r.writes.size(), 2u);
  EXPECT_NE(r.writes[1].find("MAIL FROM:<a@x.test>\r\nRCPT TO:<\"quoted local\"@y.test>\r\n"), std::string::npos)
      << r.writes[1];
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].substr(0, 3), "250");
  // Blanks outside the quotes, or '>' inside them, stay unsafe.
  for (const char* unsafe : {"\"a\" b@y.test", "\"a>b\"@y.test", "\"a b@y.test"}) {
    EXPECT_FALSE(safeSmtpPath(unsafe)) << unsafe;
  }
}

TEST(SmtpClientProtocol, RefusesLocallyWithoutAWordToTheServer) {
  Session s(settings(), {message("0123456789", {"bad address@y.test"})});
  s.protocol.receive(cat({kGreeting, kEhloFull}));
  EXPECT_EQ(s.writes.size(), 1u);  // EHLO only
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kNow);
  EXPECT_TRUE(s.results.empty());  // reported from the loop, not from inside send()
  s.protocol.onTimeout([] { return false; });
  EXPECT_EQ(s.results, (std::vector<std::string>{"553 | 553 5.1.3 address unsafe for an SMTP command | "
                                                 "553 5.1.3 address unsafe for an SMTP command"}));
  EXPECT_EQ(s.writes.back(), "QUIT\r\n");
}

TEST(SmtpClientProtocol, EachPhaseArmsItsOwnTimer) {
  Session s(settings(false, false), {message("x\r\n")});
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kGreeting);
  s.protocol.receive(kGreeting);
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kMail);  // EHLO
  s.protocol.receive(kEhloPlain);
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kMail);  // MAIL
  s.protocol.receive("250 ok\r\n");
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kRcpt);
  s.protocol.receive("250 ok\r\n");
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kDataInit);
  s.protocol.receive("354 go\r\n");
  // Body bytes on their way: the data-block timer, until the write has gone out.
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kDataBlock);
  EXPECT_EQ(s.protocol.bodyWritesInFlight(), 1u);
  bool asked = false;
  s.protocol.onTimeout([&] { return asked = true; });  // still draining: another period
  EXPECT_TRUE(asked);
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kDataBlock);
  s.protocol.onWritten(true);
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kDataEnd);
  s.protocol.receive("250 done\r\n");
  EXPECT_EQ(s.phases.back(), TimeoutPhase::kQuit);  // ready with nothing left: QUIT
  s.protocol.onTimeout([] { return false; });
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.protocol.end(), End::kQuit);
}

TEST(SmtpClientProtocol, SilenceTimesOutPerPhase) {
  Session greeting(settings(), {});
  greeting.protocol.onTimeout([] { return false; });
  EXPECT_EQ(greeting.protocol.end(), End::kGreetingFailed);
  EXPECT_EQ(greeting.protocol.endReason(), "timed out waiting for the greeting");

  Session busy(settings(), {message("x\r\n")});
  busy.protocol.receive(cat({kGreeting, kEhloFull}));
  busy.protocol.onWritten(true);
  busy.protocol.onTimeout([] { return false; });
  EXPECT_EQ(busy.protocol.end(), End::kTimeout);
  EXPECT_EQ(busy.results, (std::vector<std::string>{"0 | 0 | timed out waiting for a reply"}));
}

TEST(SmtpClientProtocol, LostConnectionAfterQuitIsAQuietEnd) {
  Session s(settings(), {});
  s.protocol.receive(cat({kGreeting, kEhloFull}));
  EXPECT_EQ(s.protocol.state(), State::kQuitting);
  s.protocol.onConnectionLost("connection closed by the server");
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.protocol.end(), End::kQuit);

  Session busy(settings(), {message("x\r\n")});
  busy.protocol.receive(cat({kGreeting, kEhloFull, "250 ok\r\n"}));
  busy.protocol.onConnectionLost("connection closed by the server");
  EXPECT_EQ(busy.protocol.end(), End::kNetwork);
  EXPECT_EQ(busy.results, (std::vector<std::string>{"0 | 0 | connection closed by the server"}));
}

// STARTTLS (RFC 3207): a session that asks for it, fed the plain part of the server's bytes
// (cut every way, the last read ending at the 220), then told the handshake is done, then fed
// the rest (cut every way).
using StartTls = SmtpClientProtocol::StartTls;
constexpr std::string_view kEhloStartTls = "250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n";

Transcript runStartTls(StartTls mode, const std::vector<OutgoingMessage>& messages, std::string_view plain,
                       const std::vector<std::string_view>& secured, int* tls_starts = nullptr) {
  Session session(settings(), messages, true, mode);
  for (std::string_view p : {plain}) session.protocol.receive(p);
  if (tls_starts) *tls_starts = session.tls_starts;
  if (session.tls_starts == 1) {
    EXPECT_EQ(session.phases.back(), TimeoutPhase::kStartTls);
    EXPECT_FALSE(session.protocol.secured());
    session.protocol.onTlsEstablished();
    EXPECT_TRUE(session.protocol.secured());
    for (std::string_view p : secured) session.protocol.receive(p);
  }
  return {session.writes, session.results, session.closed, session.protocol.end(), session.protocol.endReason()};
}

TEST(SmtpClientProtocol, StartTlsThenEhloAgainAndTheTransactionInsideTls) {
  std::string plain = cat({kGreeting, kEhloStartTls, "220 2.0.0 Ready to start TLS\r\n"});
  std::string secured = cat({kEhloPlain, "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 done\r\n", "221 bye\r\n"});
  int starts = 0;
  Transcript r = runStartTls(StartTls::kIfOffered, {message("x\r\n")}, plain, {secured}, &starts);
  EXPECT_EQ(starts, 1);
  // The capabilities said in plain are forgotten: no PIPELINING over TLS, so lock-step.
  EXPECT_EQ(r.writes, (std::vector<std::string>{"EHLO client.test\r\n", "STARTTLS\r\n", "EHLO client.test\r\n",
                                                "MAIL FROM:<a@x.test>\r\n", "RCPT TO:<b@y.test>\r\n", "DATA\r\n",
                                                "x\r\n.\r\n", "QUIT\r\n"}));
  EXPECT_EQ(r.results, (std::vector<std::string>{"250 | 250 done | 250 done"}));
  EXPECT_EQ(r.end, End::kQuit);
  // The same whichever way the reads are cut.
  for (size_t i = 1; i < plain.size(); ++i) {
    Session cut(settings(), {message("x\r\n")}, true, StartTls::kRequired);
    cut.protocol.receive(std::string_view(plain).substr(0, i));
    EXPECT_EQ(cut.tls_starts, 0) << i;
    cut.protocol.receive(std::string_view(plain).substr(i));
    EXPECT_EQ(cut.tls_starts, 1) << i;
    cut.protocol.onTlsEstablished();
    for (size_t j = 0; j < secured.size(); ++j) cut.protocol.receive(std::string_view(secured).substr(j, 1));
    EXPECT_EQ(cut.writes, r.writes) << i;
    EXPECT_EQ(cut.results, r.results) << i;
  }
}

TEST(SmtpClientProtocol, StartTlsIsNotSentTwiceNorWhenNeverAsked) {
  // Inside TLS the server may list STARTTLS again; it is not taken up (RFC 3207 section 4.2).
  Transcript again = runStartTls(StartTls::kRequired, {}, cat({kGreeting, kEhloStartTls, "220 go\r\n"}),
                                 {kEhloStartTls, "221 bye\r\n"});
  EXPECT_EQ(again.writes,
            (std::vector<std::string>{"EHLO client.test\r\n", "STARTTLS\r\n", "EHLO client.test\r\n", "QUIT\r\n"}));
  EXPECT_EQ(again.end, End::kQuit);
  Transcript never = runEveryCut(settings(), {}, cat({kGreeting, kEhloStartTls, "221 bye\r\n"}));
  EXPECT_EQ(never.writes, (std::vector<std::string>{"EHLO client.test\r\n", "QUIT\r\n"}));
}

TEST(SmtpClientProtocol, BytesBehindTheStartTlsReplyAreRefusedNotFedToTls) {
  // CVE-2011-0411: a command's reply injected behind the 220, in the same read, would be
  // taken as the answer to the EHLO sent over TLS.
  int starts = 0;
  Transcript r = runStartTls(StartTls::kIfOffered, {message("x\r\n")},
                             cat({kGreeting, kEhloStartTls, "220 go\r\n250-evil.test\r\n250 PIPELINING\r\n"}), {},
                             &starts);
  EXPECT_EQ(starts, 0);
  EXPECT_EQ(r.end, End::kProtocol);
  EXPECT_EQ(r.reason, "bytes after the 220 to STARTTLS, before TLS (plaintext injection?)");
  EXPECT_EQ(r.writes, (std::vector<std::string>{"EHLO client.test\r\n", "STARTTLS\r\n"}));
  // Part of a line is as bad as a whole one.
  Transcript partial =
      runStartTls(StartTls::kIfOffered, {}, cat({kGreeting, kEhloStartTls, "220 go\r\n2"}), {}, &starts);
  EXPECT_EQ(starts, 0);
  EXPECT_EQ(partial.end, End::kProtocol);
}

TEST(SmtpClientProtocol, RequiredTlsEndsTheSessionWhenNotOfferedOrRefused) {
  Transcript absent = runStartTls(StartTls::kRequired, {message("x\r\n")}, cat({kGreeting, kEhloFull}), {});
  EXPECT_EQ(absent.end, End::kTlsUnavailable);
  EXPECT_EQ(absent.reason, "STARTTLS not offered");
  EXPECT_EQ(absent.writes, (std::vector<std::string>{"EHLO client.test\r\n"}));  // no MAIL in plain
  EXPECT_STREQ(SmtpClientProtocol::endName(End::kTlsUnavailable), "tls_unavailable");
  // HELO offers no extension at all.
  Transcript helo = runStartTls(StartTls::kRequired, {}, cat({kGreeting, "502 no\r\n", "250 mx.test\r\n"}), {});
  EXPECT_EQ(helo.end, End::kTlsUnavailable);
  Transcript refused = runStartTls(StartTls::kRequired, {message("x\r\n")},
                                   cat({kGreeting, kEhloStartTls, "454 4.7.0 TLS not available due to temporary reason\r\n"}), {});
  EXPECT_EQ(refused.end, End::kTlsUnavailable);
  EXPECT_EQ(refused.reason, "STARTTLS refused: 454 4.7.0 TLS not available due to temporary reason");
  EXPECT_EQ(refused.writes, (std::vector<std::string>{"EHLO client.test\r\n", "STARTTLS\r\n"}));
}

TEST(SmtpClientProtocol, OpportunisticTlsGoesOnInPlainWhenRefusedOrNotOffered) {
  Transcript refused = runStartTls(
      StartTls::kIfOffered, {message("x\r\n")},
      cat({kGreeting, kEhloStartTls, "454 4.7.0 not now\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", "250 done\r\n", "221 bye\r\n"}),
      {});
  EXPECT_EQ(refused.results, (std::vector<std::string>{"250 | 250 done | 250 done"}));
  ASSERT_EQ(refused.writes.size(), 5u);
  EXPECT_EQ(refused.writes[2], "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");  // PIPELINING as offered
  Transcript absent = runStartTls(StartTls::kIfOffered, {}, cat({kGreeting, kEhloFull, "221 bye\r\n"}), {});
  EXPECT_EQ(absent.writes, (std::vector<std::string>{"EHLO client.test\r\n", "QUIT\r\n"}));
  EXPECT_EQ(absent.end, End::kQuit);
}

TEST(SmtpClientProtocol, HandshakeThatHangsOrBreaksIsATlsFailure) {
  Session hangs(settings(), {message("x\r\n")}, true, StartTls::kIfOffered);
  hangs.protocol.receive(cat({kGreeting, kEhloStartTls, "220 go\r\n"}));
  ASSERT_EQ(hangs.tls_starts, 1);
  hangs.protocol.onTimeout([] { return false; });
  EXPECT_EQ(hangs.protocol.end(), End::kTlsFailed);
  EXPECT_EQ(hangs.protocol.endReason(), "TLS handshake timed out");
  EXPECT_STREQ(SmtpClientProtocol::endName(End::kTlsFailed), "tls_failed");

  Session dropped(settings(), {}, true, StartTls::kIfOffered);
  dropped.protocol.receive(cat({kGreeting, kEhloStartTls, "220 go\r\n"}));
  dropped.protocol.onConnectionLost("connection closed by the server");
  EXPECT_EQ(dropped.protocol.end(), End::kTlsFailed);
  EXPECT_EQ(dropped.protocol.endReason(), "TLS handshake: connection closed by the server");

  Session silent(settings(), {}, true, StartTls::kIfOffered);
  silent.protocol.receive(cat({kGreeting, kEhloStartTls}));
  silent.protocol.onTimeout([] { return false; });
  EXPECT_EQ(silent.protocol.end(), End::kGreetingFailed);
  EXPECT_EQ(silent.protocol.endReason(), "timed out waiting for the STARTTLS reply");
}

}  // namespace
}  // namespace lbmail::smtp
