// A destination pool's TLS against scripted servers: opportunistic TLS that falls back to plain
// after a failed handshake, required TLS that backs off with the reason (the engine then fails
// over and defers with it), and sessions resumed by the pool's next connection.
#include "destination_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "events.h"
#include "lbmail/shaping/reply_classifier.h"
#include "loop_thread.h"
#include "smtp_tls_context.h"
#include "starttls_peer.h"
#include "test_message.h"
#include "test_pki.h"

namespace lbmail::delivery {
namespace {

using namespace std::chrono_literals;
using test::Events;
using test::LoopThread;
using test::ScriptedPeer;
using test::ScriptedSmtpServer;
using test::StartTlsPeer;
using test::StartTlsServerContext;
using test::TestPki;

// The engine's part, recorded: results, fail-overs, counters.
class RecordingOwner final : public DestinationPoolOwner {
 public:
  RecordingOwner(Events& events, const std::string& ca_file, Duration starttls_timeout)
      : events_(events), tls_(ca_file) {
    settings_.helo_name = "client.test";
    settings_.greeting_timeout = settings_.mail_timeout = settings_.rcpt_timeout = settings_.data_init_timeout =
        settings_.data_block_timeout = settings_.data_end_timeout = 5s;
    settings_.starttls_timeout = starttls_timeout;
  }

  const SmtpClientSettings& clientSettings() const override { return settings_; }
  const SmtpTlsContext& tlsContext() const override { return tls_; }
  Duration backoff() const override { return 30s; }
  DeliveryEngineStats& counters() override { return stats; }
  void finish(std::unique_ptr<Delivery>, DeliveryResult&& result) override {
    events_.update([&] { results.push_back(std::move(result)); });
  }
  void finishWithoutSending(std::unique_ptr<Delivery> d, DeliveryOutcome outcome, std::string reason) override {
    DeliveryResult r;
    r.outcome = outcome;
    r.reason = std::move(reason);
    finish(std::move(d), std::move(r));
  }
  void failOver(std::unique_ptr<Delivery>, const std::string& reason) override {
    events_.update([&] { failovers.push_back(reason); });
  }
  void onPoolClosed(DestinationPool&) override {
    events_.update([&] { pool_closed = true; });
  }
  void onSiteChanged(SiteGate&) override {}

  std::vector<DeliveryResult> results;
  std::vector<std::string> failovers;
  DeliveryEngineStats stats;
  bool pool_closed = false;

 private:
  Events& events_;
  SmtpClientSettings settings_;
  SmtpTlsContext tls_;
};

struct PoolRun {
  std::vector<DeliveryResult> results;
  std::vector<std::string> failovers;
  DeliveryEngineStats stats;
};

// Queues messages on one pool for server under tls; returns once each is finished or failed over.
PoolRun runPool(const SocketAddress& server, const TlsRequirement& tls, size_t messages,
                const std::string& ca_file = "", DestinationLimits limits = {}, Duration starttls_timeout = 5s) {
  Events events;
  LoopThread loop;
  RecordingOwner owner(events, ca_file, starttls_timeout);
  std::unique_ptr<DestinationPool> pool;
  shaping::ReplyClassifier classifier;  // no shaping table: the gate lets everything through
  auto gate = std::make_shared<SiteGate>(nullptr, classifier, "", "test-site", "");
  loop.call([&] {
    pool = std::make_unique<DestinationPool>(loop.loop(), owner, std::nullopt, server, limits, tls, gate);
    for (size_t i = 0; i < messages; ++i) {
      auto d = std::make_unique<Delivery>();
      d->message = smtp::test::message("Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n");
      pool->enqueue(std::move(d));
    }
  });
  EXPECT_TRUE(events.waitFor([&] { return owner.results.size() + owner.failovers.size() == messages; }));
  loop.call([&] { pool->close(); });
  EXPECT_TRUE(events.waitFor([&] { return owner.pool_closed; }));
  loop.call([&] { pool.reset(); });
  EXPECT_EQ(loop.stop(), 0);
  return {owner.results, owner.failovers, owner.stats};
}

TlsRequirement requirement(TlsPolicy policy, TlsLevel level) {
  TlsRequirement r;
  r.policy = policy;
  r.level = level;
  r.host = "mx.test";
  return r;
}

// A plain transaction, pipelined, on a server that still offers STARTTLS.
void acceptInPlain(ScriptedPeer& peer) {
  test::greetAndHello(peer, {"PIPELINING", "STARTTLS"});
  EXPECT_TRUE(peer.readLine().value_or("").starts_with("MAIL FROM:"));  // no STARTTLS this time
  EXPECT_TRUE(peer.readLine().value_or("").starts_with("RCPT TO:"));
  EXPECT_EQ(peer.readLine().value_or(""), "DATA");
  peer.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
  EXPECT_TRUE(peer.readUntil("\r\n.\r\n").has_value());
  peer.send("250 2.0.0 queued in plain\r\n");
  EXPECT_EQ(peer.readLine().value_or("(closed)"), "QUIT");
  peer.send("221 Bye\r\n");
}

TEST(DestinationPoolTls, OpportunisticGoesOnInPlainAfterAFailedHandshake) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int index) {
    if (index > 0) {
      acceptInPlain(peer);
      return;
    }
    test::offerStartTls(peer);
    EXPECT_TRUE(peer.readBytes(5).has_value());
    peer.send("garbage, not a TLS record\r\n");
    peer.waitForClose();
  });
  PoolRun run = runPool(server.address(), requirement(TlsPolicy::kOpportunistic, TlsLevel::kMay), 1);
  // Postfix's "may": the message stays queued and goes on the next connection, in plain.
  ASSERT_EQ(run.results.size(), 1u);
  EXPECT_TRUE(run.failovers.empty());
  EXPECT_EQ(run.results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(run.results[0].reply.summary(), "250 2.0.0 queued in plain");
  EXPECT_EQ(run.results[0].tls.version, "");
  EXPECT_EQ(run.stats.tls_failures, 1u);
  EXPECT_EQ(run.stats.tls_plain_fallbacks, 1u);
  EXPECT_EQ(run.stats.tls_handshakes, 0u);
  EXPECT_EQ(run.stats.backoffs, 0u);
  EXPECT_EQ(server.accepted(), 2);
}

TEST(DestinationPoolTls, VerifyFailureBacksOffWithTheReasonInsteadOfGoingPlain) {
  TestPki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  StartTlsServerContext server_tls(pki.leaf("other", {"other.test"}));
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    EXPECT_FALSE(tls.established());
  });
  DestinationLimits one_connection;
  one_connection.max_connections = 1;
  PoolRun run =
      runPool(server.address(), requirement(TlsPolicy::kVerify, TlsLevel::kVerify), 2, pki.caFile(), one_connection);
  EXPECT_TRUE(run.results.empty());
  ASSERT_EQ(run.failovers.size(), 2u);
  const std::string prefix = server.address().toString() + ": TLS required (verify): TLS handshake failed: ";
  EXPECT_EQ(run.failovers[0].rfind(prefix, 0), 0u) << run.failovers[0];
  EXPECT_NE(run.failovers[0].find("certificate verify failed (hostname mismatch)"), std::string::npos)
      << run.failovers[0];
  EXPECT_EQ(run.stats.backoffs, 1u);
  EXPECT_EQ(run.stats.tls_failures, 1u);
  EXPECT_EQ(run.stats.tls_plain_fallbacks, 0u);
  EXPECT_EQ(server.accepted(), 1);  // backed off: no second try, and never in plain
}

TEST(DestinationPoolTls, EncryptBacksOffWhenStartTlsIsNotOffered) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::greetAndHello(peer, {"PIPELINING"});
    peer.waitForClose();
  });
  PoolRun run = runPool(server.address(), requirement(TlsPolicy::kEncrypt, TlsLevel::kEncrypt), 1);
  ASSERT_EQ(run.failovers.size(), 1u);
  EXPECT_EQ(run.failovers[0], server.address().toString() + ": TLS required (encrypt): STARTTLS not offered");
  EXPECT_EQ(run.stats.tls_failures, 1u);
}

// A receiver whose handshake hangs: timed out, then plain (opportunistic) or deferred with the
// reason (required); the message is never lost.
TEST(DestinationPoolTls, AHandshakeThatHangsIsRetriedInPlainOrBacksOffPerLevel) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int index) {
    if (index > 0) {
      acceptInPlain(peer);
      return;
    }
    test::offerStartTls(peer);
    peer.waitForClose();  // takes the ClientHello, answers nothing
  });
  PoolRun may = runPool(server.address(), requirement(TlsPolicy::kOpportunistic, TlsLevel::kMay), 1, "", {}, 300ms);
  ASSERT_EQ(may.results.size(), 1u);
  EXPECT_EQ(may.results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(may.stats.tls_plain_fallbacks, 1u);

  ScriptedSmtpServer hangs([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    peer.waitForClose();
  });
  PoolRun encrypt = runPool(hangs.address(), requirement(TlsPolicy::kEncrypt, TlsLevel::kEncrypt), 1, "", {}, 300ms);
  EXPECT_TRUE(encrypt.results.empty());
  ASSERT_EQ(encrypt.failovers.size(), 1u);
  EXPECT_EQ(encrypt.failovers[0], hangs.address().toString() + ": TLS required (encrypt): TLS handshake timed out");
}

TEST(DestinationPoolTls, TheNextConnectionResumesTheLastSession) {
  TestPki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  StartTlsServerContext server_tls(pki.leaf("mx", {"mx.test"}));
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    std::string body;
    test::acceptOneMessage(tls, &body);
  });
  DestinationLimits one_each;
  one_each.max_connections = 1;
  one_each.max_messages_per_connection = 1;
  PoolRun run = runPool(server.address(), requirement(TlsPolicy::kVerify, TlsLevel::kVerify), 2, pki.caFile(), one_each);
  ASSERT_EQ(run.results.size(), 2u);
  for (const DeliveryResult& r : run.results) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered);
    EXPECT_TRUE(r.tls.verified);
    EXPECT_EQ(r.tls.policy, TlsPolicy::kVerify);
  }
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(run.stats.tls_handshakes, 2u);
  EXPECT_EQ(run.stats.tls_resumed, 1u);
}

}  // namespace
}  // namespace lbmail::delivery
