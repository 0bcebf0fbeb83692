// Tests for the outgoing SMTP connection against a scripted server that says exactly what a
// test needs: pipelined batches, lock-step, RFC 2920 section 3.1, byte-by-byte replies,
// garbage, resets, silence, 421, local refusals.
#include "smtp_client_connection.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "events.h"
#include "loop_thread.h"
#include "scripted_smtp_server.h"
#include "test_message.h"

namespace lbmail::delivery {
namespace {

using namespace std::chrono_literals;
using End = SmtpClientConnection::End;
using test::Events;
using test::LoopThread;
using test::ScriptedPeer;
using test::ScriptedSmtpServer;

using smtp::test::message;

// Drives one connection: sends the messages in order when ready, then QUITs.
class ClientRun final : public SmtpClientConnection::Handler {
 public:
  ClientRun(Events& events, std::vector<OutgoingMessage> messages, bool all_at_once)
      : events_(events), messages_(std::move(messages)), all_at_once_(all_at_once) {}

  void onConnectionReady(SmtpClientConnection& c) override {
    caps = c.capabilities();
    if (next_ == messages_.size()) {
      c.quit();
      return;
    }
    c.cork();
    do {
      c.send(messages_[next_++], [this](DeliveryResult&& r) { events_.update([&] { results.push_back(std::move(r)); }); });
    } while (all_at_once_ && next_ < messages_.size() && c.acceptsMore());
    c.uncork();
  }
  void onConnectionClosed(SmtpClientConnection&, End e, const std::string& why) override {
    events_.update([&] {
      closed = true;
      end = e;
      reason = why;
    });
  }

  std::vector<DeliveryResult> results;
  ServerCapabilities caps;
  bool closed = false;
  End end = End::kAborted;
  std::string reason;

 private:
  Events& events_;
  std::vector<OutgoingMessage> messages_;
  bool all_at_once_;
  size_t next_ = 0;
};

struct Outcome {
  std::vector<DeliveryResult> results;
  ServerCapabilities caps;
  End end;
  std::string reason;
};

// Sends the messages one transaction at a time, or (all_at_once) as many as the connection
// takes without waiting.
Outcome run(const SocketAddress& server, const SmtpClientSettings& settings, std::vector<OutgoingMessage> messages,
            std::optional<SocketAddress> source = {}, bool all_at_once = false) {
  Events events;
  LoopThread loop;
  ClientRun handler(events, std::move(messages), all_at_once);
  auto connection = std::make_unique<SmtpClientConnection>(loop.loop(), settings, handler);
  loop.call([&] { connection->connect(source, server); });
  EXPECT_TRUE(events.waitFor([&] { return handler.closed; }));
  EXPECT_EQ(loop.stop(), 0);
  return {handler.results, handler.caps, handler.end, handler.reason};
}

SmtpClientSettings fast() {
  SmtpClientSettings s;
  s.helo_name = "client.test";
  s.greeting_timeout = s.mail_timeout = s.rcpt_timeout = s.data_init_timeout = s.data_block_timeout =
      s.data_end_timeout = 5s;
  return s;
}

// Reads one QUIT and says goodbye.
void expectQuit(ScriptedPeer& peer) {
  EXPECT_EQ(peer.readLine().value_or("(closed)"), "QUIT");
  peer.send("221 2.0.0 Bye\r\n");
}

TEST(SmtpClientConnection, PipelinesMailAndRcptThenSendsBdatWithTheBody) {
  const std::string body1 = "Subject: one\r\n\r\nfirst\r\n", body2 = "Subject: two\r\n\r\n.second\r\n";
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING", "CHUNKING", "SIZE 100000"});
    EXPECT_EQ(peer.readLine().value_or(""), "MAIL FROM:<a@x.test> SIZE=" + std::to_string(body1.size()));
    EXPECT_EQ(peer.readLine().value_or(""), "RCPT TO:<b@y.test>");
    // The body waits for the RCPT replies: no recipient accepted, no body sent.
    peer.send("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "BDAT " + std::to_string(body1.size()) + " LAST");
    EXPECT_EQ(peer.readBytes(body1.size()).value_or(""), body1);  // sent as is: no stuffing
    peer.send("250 2.0.0 queued as A\r\n");
    // The reused connection resets first, in the same batch.
    EXPECT_EQ(peer.readLine().value_or(""), "RSET");
    EXPECT_EQ(peer.readLine().value_or(""), "MAIL FROM:<a@x.test> SIZE=" + std::to_string(body2.size()));
    EXPECT_EQ(peer.readLine().value_or(""), "RCPT TO:<b@y.test>");
    peer.send("250 Ok\r\n250 Ok\r\n250 Ok\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "BDAT " + std::to_string(body2.size()) + " LAST");
    EXPECT_EQ(peer.readBytes(body2.size()).value_or(""), body2);
    peer.send("250 2.0.0 queued as B\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message(body1), message(body2)});
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(o.results[0].reply.summary(), "250 2.0.0 queued as A");
  EXPECT_FALSE(o.results[0].connection_reused);
  EXPECT_EQ(o.results[1].outcome, DeliveryOutcome::kDelivered);
  EXPECT_TRUE(o.results[1].connection_reused);
  EXPECT_EQ(o.results[1].reply.text, "queued as B");
  EXPECT_GT(o.results[0].timings.connect.count(), 0);
  EXPECT_EQ(o.end, End::kQuit);
}

TEST(SmtpClientConnection, BdatTransactionsChainBehindEachOthersBodies) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING", "CHUNKING"});
    const std::string group = "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n";
    EXPECT_EQ(peer.readBytes(group.size()).value_or(""), group);
    peer.send("250 Ok\r\n250 Ok\r\n");
    // The first body, then the second group in the same write.
    std::string expected = "BDAT 3 LAST\r\nm0\nRSET\r\n" + group;
    EXPECT_EQ(peer.readBytes(expected.size()).value_or(""), expected);
    peer.send("250 one\r\n250 Ok\r\n250 Ok\r\n550 5.1.1 gone\r\n");
    // The second's recipient was refused: no BDAT for it, the third group comes instead.
    expected = "RSET\r\n" + group;
    EXPECT_EQ(peer.readBytes(expected.size()).value_or(""), expected);
    peer.send("250 Ok\r\n250 Ok\r\n250 Ok\r\n");
    expected = "BDAT 3 LAST\r\nm2\n";
    EXPECT_EQ(peer.readBytes(expected.size()).value_or(""), expected);
    peer.send("250 three\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message("m0\n"), message("m1\n"), message("m2\n")}, {}, true);
  ASSERT_EQ(o.results.size(), 3u);
  EXPECT_EQ(o.results[0].reply.text, "one");
  EXPECT_EQ(o.results[1].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(o.results[2].reply.text, "three");
}

TEST(SmtpClientConnection, DataTransactionsChainBehindTheEndOfDataMarker) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    EXPECT_EQ(peer.readUntil("DATA\r\n").value_or(""), "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    EXPECT_EQ(peer.pendingBytes(), 0u);  // the second group waits for the 354
    peer.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
    // The first message, then the second group in the same write, without RSET: the end of
    // data cleared the transaction.
    EXPECT_EQ(peer.readUntil("DATA\r\n").value_or(""),
              "first\r\n.\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    peer.send("250 2.0.0 first\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
    EXPECT_EQ(peer.readUntil("\r\n.\r\n").value_or(""), "second\r\n.\r\n");
    peer.send("250 2.0.0 second\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message("first\r\n"), message("second\r\n")}, {}, true);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].reply.text, "first");
  EXPECT_EQ(o.results[1].reply.text, "second");
  EXPECT_FALSE(o.results[1].connection_reused);  // queued before the connection had finished one
}

TEST(SmtpClientConnection, RefusedDataReleasesTheNextGroupWithRset) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    peer.readUntil("DATA\r\n");
    peer.send("250 Ok\r\n250 Ok\r\n554 5.5.1 No thanks\r\n");
    // No 354, so no end-of-data cleared the transaction: the next group starts with RSET.
    EXPECT_EQ(peer.readUntil("DATA\r\n").value_or(""), "RSET\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    peer.send("250 Ok\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
    peer.readUntil("\r\n.\r\n");
    peer.send("250 Ok\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message("first\r\n"), message("second\r\n")}, {}, true);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(o.results[1].outcome, DeliveryOutcome::kDelivered);
}

TEST(SmtpClientConnection, PipelinedDataStuffsDotsAndKeepsPerRecipientResults) {
  const std::string body = "Subject: x\r\n\r\n.hidden\r\nok\r\n";
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    EXPECT_EQ(peer.readLine().value_or(""), "MAIL FROM:<a@x.test>");
    EXPECT_EQ(peer.readLine().value_or(""), "RCPT TO:<b@y.test>");
    EXPECT_EQ(peer.readLine().value_or(""), "RCPT TO:<nobody@y.test>");
    EXPECT_EQ(peer.readLine().value_or(""), "DATA");
    peer.send("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 No such user\r\n354 go ahead\r\n");
    EXPECT_EQ(peer.readUntil("\r\n.\r\n").value_or(""), "Subject: x\r\n\r\n..hidden\r\nok\r\n.\r\n");
    peer.send("250 2.0.0 Ok\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message(body, {"b@y.test", "nobody@y.test"})});
  ASSERT_EQ(o.results.size(), 1u);
  const DeliveryResult& r = o.results[0];
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(r.recipients[1].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(r.recipients[1].reply.enhanced, "5.1.1");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kBounced);  // not every recipient got it, none may later
}

TEST(SmtpClientConnection, WithoutPipeliningEveryCommandWaitsForItsReply) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"8BITMIME"});
    for (const char* expected : {"MAIL FROM:<a@x.test>", "RCPT TO:<b@y.test>", "DATA"}) {
      EXPECT_EQ(peer.readLine().value_or(""), expected);
      // A lock-step client has nothing more on the wire until it hears back.
      EXPECT_EQ(peer.pendingBytes(), 0u) << "after " << expected;
      peer.send(std::string(expected) == "DATA" ? "354 go\r\n" : "250 Ok\r\n");
    }
    EXPECT_EQ(peer.readUntil("\r\n.\r\n").value_or(""), "hello\r\n.\r\n");
    peer.send("250 Ok\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message("hello\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_FALSE(o.caps.pipelining);
}

TEST(SmtpClientConnection, LockStepStopsBeforeDataWhenEveryRecipientFailed) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {});
    EXPECT_EQ(peer.readLine().value_or(""), "MAIL FROM:<a@x.test>");
    peer.send("250 Ok\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "RCPT TO:<b@y.test>");
    peer.send("450 4.2.1 Mailbox busy\r\n");
    expectQuit(peer);  // no DATA
  });
  Outcome o = run(server.address(), fast(), {message("hello\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDeferred);
  EXPECT_EQ(o.results[0].reply.code, 450);
}

TEST(SmtpClientConnection, SendsALoneDotWhenDataIsAcceptedAfterEveryRecipientFailed) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send("250 Ok\r\n550 5.1.1 No such user\r\n354 go ahead\r\n");
    // RFC 2920 section 3.1: the message itself must not follow.
    EXPECT_EQ(peer.readLine().value_or("(closed)"), ".");
    peer.send("554 5.5.1 No valid recipients\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message("secret body\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(o.results[0].recipients[0].reply.code, 550);
  EXPECT_EQ(o.end, End::kQuit);
}

TEST(SmtpClientConnection, ReadsMultiLineRepliesArrivingByteByByte) {
  const std::string body = "x\r\n";
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    peer.sendByteByByte("220-scripted.test ESMTP\r\n220 second line\r\n");
    peer.readLine();
    peer.sendByteByByte("250-scripted.test\r\n250-PIPELINING\r\n250-SIZE 5000\r\n250 CHUNKING\r\n");
    for (int i = 0; i < 2; ++i) peer.readLine();
    peer.sendByteByByte("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
    peer.readLine();
    peer.readBytes(body.size());
    peer.sendByteByByte("250-2.0.0 queued\r\n250 2.0.0 as C\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message(body)});
  EXPECT_TRUE(o.caps.pipelining);
  EXPECT_TRUE(o.caps.chunking);
  EXPECT_EQ(o.caps.size_limit, 5000u);
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(o.results[0].reply.text, "queued\nas C");
}

// A server that answers the transaction with bytes; the message must come back deferred with a
// reason and the connection end as a protocol error.
void expectProtocolError(const std::string& answer) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send(answer);
    peer.waitForClose();
  });
  Outcome o = run(server.address(), fast(), {message("x\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(o.results[0].reason.find("malformed reply"), std::string::npos) << o.results[0].reason;
  EXPECT_EQ(o.end, End::kProtocol);
}

TEST(SmtpClientConnection, GarbageReplyDefersTheMessage) { expectProtocolError("hello there\r\n"); }

TEST(SmtpClientConnection, OverlongReplyDefersTheMessage) {
  expectProtocolError("250 " + std::string(10000, 'x') + "\r\n");
}

TEST(SmtpClientConnection, ResetMidDataDefersTheMessage) {
  std::string body(200000, 'a');
  body += "\r\n";
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
    peer.readBytes(1000);
    peer.reset();
  });
  Outcome o = run(server.address(), fast(), {message(body)});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDeferred);
  EXPECT_EQ(o.results[0].reply.code, 0);
  EXPECT_FALSE(o.results[0].reason.empty());
  EXPECT_EQ(o.end, End::kNetwork);
}

TEST(SmtpClientConnection, GreetingThatNeverComesTimesOut) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) { peer.waitForClose(); });
  SmtpClientSettings s = fast();
  s.greeting_timeout = 200ms;
  Outcome o = run(server.address(), s, {message("x\r\n")});
  EXPECT_TRUE(o.results.empty());
  EXPECT_EQ(o.end, End::kGreetingFailed);
  EXPECT_NE(o.reason.find("greeting"), std::string::npos) << o.reason;
}

TEST(SmtpClientConnection, RefusedGreetingEndsTheConnection) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    peer.send("421 4.3.2 Too busy\r\n");
    peer.waitForClose();
  });
  Outcome o = run(server.address(), fast(), {message("x\r\n")});
  EXPECT_TRUE(o.results.empty());
  EXPECT_EQ(o.end, End::kGreetingFailed);
  EXPECT_NE(o.reason.find("421 4.3.2 Too busy"), std::string::npos) << o.reason;
}

TEST(SmtpClientConnection, ServiceClosingMidTransactionDefersAndCloses) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send("421 4.7.0 Closing\r\n");
    peer.waitForClose();
  });
  Outcome o = run(server.address(), fast(), {message("x\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDeferred);
  EXPECT_EQ(o.results[0].reply.code, 421);
  EXPECT_EQ(o.end, End::kServiceClosing);
}

TEST(SmtpClientConnection, FallsBackToHeloWhenEhloIsRefused) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    peer.send("220 old.test SMTP\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "EHLO client.test");
    peer.send("502 5.5.2 Command not recognized\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "HELO client.test");
    peer.send("250 old.test\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "MAIL FROM:<a@x.test>");  // no SIZE: not ESMTP
    peer.send("250 Ok\r\n");
    peer.readLine();
    peer.send("250 Ok\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "DATA");
    peer.send("354 go\r\n");
    peer.readUntil("\r\n.\r\n");
    peer.send("250 Ok\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message("x\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDelivered);
}

TEST(SmtpClientConnection, RefusesLocallyWhatMustNotReachTheServer) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING", "SIZE 100"});
    expectQuit(peer);  // neither message gets a MAIL command
  });
  Outcome o = run(server.address(), fast(),
                  {message(std::string(200, 'x') + "\r\n"), message("x\r\n", {"b@y.test>\r\nRCPT TO:<evil@z.test"})});
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(o.results[0].reply.code, 552);
  EXPECT_EQ(o.results[1].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(o.results[1].reply.code, 553);
}

TEST(SmtpClientConnection, LocalRefusalDoesNotTakeTheNextTransactionsReplies) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING", "CHUNKING", "SIZE 100"});
    // Only the small message reaches the wire, on its own.
    EXPECT_EQ(peer.readLine().value_or(""), "MAIL FROM:<a@x.test> SIZE=4");
    peer.readLine();
    peer.send("250 Ok\r\n250 Ok\r\n");
    EXPECT_EQ(peer.readLine().value_or(""), "BDAT 4 LAST");
    peer.readBytes(4);
    peer.send("250 2.0.0 small one\r\n");
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {message(std::string(200, 'x') + "\r\n"), message("ok\r\n")}, {}, true);
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].reply.code, 552);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(o.results[1].outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(o.results[1].reply.text, "small one");
}

TEST(SmtpClientConnection, DataAnsweredWith250IsAProtocolError) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send("250 Ok\r\n250 Ok\r\n250 2.0.0 sure\r\n");  // no 354: nothing was sent
    peer.waitForClose();
  });
  Outcome o = run(server.address(), fast(), {message("x\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDeferred);
  EXPECT_EQ(o.end, End::kProtocol);
}

TEST(SmtpClientConnection, SilentEndOfDataTimesOut) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
    peer.readUntil("\r\n.\r\n");
    peer.waitForClose();
  });
  SmtpClientSettings s = fast();
  s.data_end_timeout = 200ms;
  Outcome o = run(server.address(), s, {message("x\r\n")});
  ASSERT_EQ(o.results.size(), 1u);
  EXPECT_EQ(o.results[0].outcome, DeliveryOutcome::kDeferred);
  EXPECT_EQ(o.end, End::kTimeout);
}

TEST(SmtpClientConnection, ConnectsFromTheConfiguredSourceAddress) {
  std::string seen;
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    seen = peer.peerHost();
    greetAndHello(peer, {});
    expectQuit(peer);
  });
  Outcome o = run(server.address(), fast(), {}, SocketAddress::parse("127.0.0.2:0"));
  EXPECT_EQ(o.end, End::kQuit);
  EXPECT_EQ(seen, "127.0.0.2");
}

TEST(SmtpClientConnection, RefusedConnectionIsAConnectFailure) {
  SocketAddress closed_port;
  { ScriptedSmtpServer server([](ScriptedPeer&, int) {});
    closed_port = server.address(); }  // closed again: nothing listens there now
  Outcome o = run(closed_port, fast(), {message("x\r\n")});
  EXPECT_TRUE(o.results.empty());
  EXPECT_EQ(o.end, End::kConnectFailed);
}

}  // namespace
}  // namespace lbmail::delivery
