// The delivery engine against real receivers (lbmail sink, Postfix's smtp-sink) and scripted
// servers: connection reuse, the destination's connection cap under load, MX failover and
// back-off, the per-connection message limit, retry after a dropped reused connection, close.
#include "lbmail/delivery/delivery_engine.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dnsmasq_server.h"
#include "events.h"
#include "loop_thread.h"
#include "scripted_smtp_server.h"
#include "sink_process.h"
#include "test_pki.h"

namespace lbmail::delivery {
namespace {

using namespace std::chrono_literals;
using test::Events;
using test::LoopThread;
using test::ScriptedPeer;
using test::ScriptedSmtpServer;

OutgoingMessage message(const std::string& rcpt, size_t size = 200) {
  auto body = std::make_shared<std::string>("Message-ID: <" + rcpt + ">\r\nSubject: test\r\n\r\n");
  while (body->size() + 2 < size) body->append(std::min<size_t>(76, size - body->size() - 2), 'x').append("\r\n");
  OutgoingMessage m;
  m.mail_from = "sender@lbmail.test";
  m.recipients = {rcpt};
  m.body = {*body};
  m.owner = body;
  return m;
}

// An engine and its resolver on a loop thread; results collected for the test's thread.
class EngineRun {
 public:
  EngineRun(DeliveryConfig config, dns::ResolverConfig resolver_config) {
    loop_.call([&] {
      resolver_ = std::make_unique<dns::MxResolver>(loop_.loop(), resolver_config);
      EXPECT_EQ(resolver_->start(), "");
      engine_ = std::make_unique<DeliveryEngine>(loop_.loop(), config, *resolver_);
    });
  }
  ~EngineRun() { close(); }

  void submit(const std::string& domain, std::vector<OutgoingMessage> messages) {
    loop_.call([&] {
      for (OutgoingMessage& m : messages) {
        engine_->submit(domain, std::move(m), [this](DeliveryResult&& r) {
          events_.update([&] { results_.push_back(std::move(r)); });
        });
      }
    });
  }
  bool waitForResults(size_t n) {
    return events_.waitFor([&] { return results_.size() >= n; }, 60s);
  }
  std::vector<DeliveryResult> results() {
    std::vector<DeliveryResult> copy;
    events_.locked([&] { copy = results_; });
    return copy;
  }
  DeliveryEngineStats stats() {
    DeliveryEngineStats s;
    loop_.call([&] { s = engine_->stats(); });
    return s;
  }
  size_t pools() {
    size_t n = 0;
    loop_.call([&] { n = engine_->destinationPools(); });
    return n;
  }
  // The pool sweep runs on its own timer, with nothing a test could wait on: polled, bounded.
  bool waitForPools(size_t n) {
    for (int i = 0; i < 1000 && pools() != n; ++i) std::this_thread::sleep_for(10ms);
    return pools() == n;
  }
  void close() {
    if (!engine_) return;
    bool closed = false;
    loop_.call([&] {
      engine_->close([&] {
        resolver_->close([&] { events_.update([&] { closed = true; }); });
      });
    });
    EXPECT_TRUE(events_.waitFor([&] { return closed; }));
    EXPECT_EQ(loop_.stop(), 0);
    engine_.reset();
    resolver_.reset();
  }

 private:
  LoopThread loop_;
  Events events_;
  std::unique_ptr<dns::MxResolver> resolver_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::vector<DeliveryResult> results_;
};

dns::ResolverConfig routes(const std::string& domain, std::vector<SocketAddress> to) {
  dns::ResolverConfig c;
  c.static_routes.push_back({domain, std::move(to)});
  return c;
}

DeliveryConfig fastConfig() {
  DeliveryConfig c;
  c.client.helo_name = "engine.test";
  c.client.connect_timeout = c.client.greeting_timeout = c.client.mail_timeout = c.client.rcpt_timeout =
      c.client.data_init_timeout = c.client.data_block_timeout = c.client.data_end_timeout = 10s;
  return c;
}

std::vector<OutgoingMessage> batch(size_t n, size_t size = 200, const std::string& prefix = "user") {
  std::vector<OutgoingMessage> out;
  for (size_t i = 0; i < n; ++i) out.push_back(message(prefix + std::to_string(i) + "@example.test", size));
  return out;
}

size_t delivered(const std::vector<DeliveryResult>& results) {
  size_t n = 0;
  for (const DeliveryResult& r : results) n += r.outcome == DeliveryOutcome::kDelivered;
  return n;
}

// The engine's default, opportunistic TLS, into the sink with STARTTLS: every message inside
// TLS (pipelined BDAT, large bodies in 16 KiB records), and connections after the first ones
// resume a session.
TEST(DeliveryEngine, OpportunisticTlsIntoTheTlsSinkResumesSessions) {
  test::TestPki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  test::TestCertificate cert = pki.leaf("sink", {"sink.test"});
  test::SinkProcess sink("tls_certificate = \"" + cert.cert + "\"\ntls_key = \"" + cert.key + "\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  DeliveryConfig config = fastConfig();
  config.limits.max_connections = 1;
  config.limits.max_messages_per_connection = 4;
  constexpr size_t kMessages = 12;
  {
    EngineRun run(config, routes("example.test", {sink.smtp()}));
    run.submit("example.test", batch(kMessages, 100'000));
    ASSERT_TRUE(run.waitForResults(kMessages));
    std::vector<DeliveryResult> results = run.results();
    EXPECT_EQ(delivered(results), kMessages) << results.front().reason;
    for (const DeliveryResult& r : results) {
      EXPECT_FALSE(r.tls.version.empty());
      EXPECT_EQ(r.tls.policy, TlsPolicy::kOpportunistic);
      EXPECT_FALSE(r.tls.verified);  // no MX host name to check the certificate against
    }
    DeliveryEngineStats s = run.stats();
    EXPECT_EQ(s.tls_handshakes, s.connections_opened);
    EXPECT_GE(s.connections_opened, 3u);
    EXPECT_EQ(s.tls_resumed, s.connections_opened - 1);  // one at a time: each resumes the last
    EXPECT_EQ(s.tls_failures, 0u);
  }
  EXPECT_EQ(sink.stop(), 0);
  std::vector<std::string> log = sink.messageLog();
  ASSERT_EQ(log.size(), kMessages);
  for (const std::string& line : log) EXPECT_NE(line.find("\"tls\":\"TLSv1."), std::string::npos) << line;
}

TEST(DeliveryEngine, DeliversIntoLbmailSinkOverFewReusedConnections) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  DeliveryConfig config = fastConfig();
  config.limits.max_connections = 4;
  constexpr size_t kMessages = 300;
  {
    EngineRun run(config, routes("example.test", {sink.smtp()}));
    run.submit("Example.TEST", batch(kMessages, 2000));
    ASSERT_TRUE(run.waitForResults(kMessages));
    std::vector<DeliveryResult> results = run.results();
    EXPECT_EQ(delivered(results), kMessages) << results.front().reason;
    for (const DeliveryResult& r : results) {
      EXPECT_EQ(r.mx_address.toString(), sink.smtp().toString());
      EXPECT_EQ(r.attempts, 1u);
      EXPECT_GE(r.timings.total, r.timings.transaction);
    }
    DeliveryEngineStats s = run.stats();
    EXPECT_LE(s.connections_opened, 4u);
    EXPECT_GE(s.transactions_reused, kMessages - 4);
    EXPECT_EQ(s.in_flight, 0u);
    // A static route is the operator's own choice: loopback needs no allow_private_destinations.
    EXPECT_EQ(s.destinations_refused, 0u);
  }
  EXPECT_EQ(sink.stop(), 0);
  std::vector<std::string> log = sink.messageLog();
  ASSERT_EQ(log.size(), kMessages);
  std::set<std::string> seen;
  for (const std::string& line : log) {
    size_t at = line.find("\"recipients\":[\"");
    ASSERT_NE(at, std::string::npos) << line;
    std::string rcpt = line.substr(at + 15, line.find('"', at + 15) - at - 15);
    EXPECT_NE(line.find("\"message_id\":\"<" + rcpt + ">\""), std::string::npos) << line;
    seen.insert(rcpt);
  }
  EXPECT_EQ(seen.size(), kMessages);  // each recipient exactly once
}

TEST(DeliveryEngine, ResolvesMxThroughDnsAndClassifiesDnsAnswers) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  // The sink listens on 127.0.0.1; DNS names it by MX, by implicit MX, and not at all.
  test::DnsmasqServer dns({"--mx-host=mx.test,mx1.mx.test,10", "--host-record=mx1.mx.test,127.0.0.1",
                           "--host-record=implicit.test,127.0.0.1", "--mx-host=nullmx.test,.,0"});
  ASSERT_EQ(dns.start(), "");
  dns::ResolverConfig rc;
  rc.servers = {dns.address()};
  rc.smtp_port = sink.smtp().port();
  DeliveryConfig config = fastConfig();
  config.allow_private_destinations = true;  // the sink is on loopback
  {
    EngineRun run(config, rc);
    run.submit("mx.test", {message("a@mx.test")});
    run.submit("implicit.test", {message("b@implicit.test")});
    run.submit("nullmx.test", {message("c@nullmx.test")});
    run.submit("missing.test", {message("d@missing.test")});
    ASSERT_TRUE(run.waitForResults(4));
    std::vector<DeliveryResult> results = run.results();
    size_t ok = 0;
    for (const DeliveryResult& r : results) {
      if (r.outcome == DeliveryOutcome::kDelivered) {
        ++ok;
        EXPECT_TRUE(r.mx_host == "mx1.mx.test" || r.mx_host == "implicit.test") << r.mx_host;
      } else {
        EXPECT_EQ(r.outcome, DeliveryOutcome::kBounced) << r.reason;
        EXPECT_NE(r.reason.find("DNS: "), std::string::npos) << r.reason;
      }
    }
    EXPECT_EQ(ok, 2u);
  }
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 2u);
}

// Issue 16, defect 7: an MX on loopback made the gateway deliver to a local service.
TEST(DeliveryEngine, DoesNotDialAnMxOnLoopbackByDefault) {
  ScriptedSmtpServer local([](ScriptedPeer& peer, int) { test::greetAndHello(peer, {}); });
  test::DnsmasqServer dns({"--mx-host=victim.test,mx.victim.test,10", "--host-record=mx.victim.test,127.0.0.1",
                           "--host-record=implicit.test,127.0.0.1"});
  ASSERT_EQ(dns.start(), "");
  dns::ResolverConfig rc;
  rc.servers = {dns.address()};
  rc.smtp_port = local.address().port();
  EngineRun run(fastConfig(), rc);
  run.submit("victim.test", {message("a@victim.test")});
  run.submit("implicit.test", {message("b@implicit.test")});
  ASSERT_TRUE(run.waitForResults(2));
  for (const DeliveryResult& r : run.results()) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kBounced) << r.reason;
    EXPECT_NE(r.reason.find("127.0.0.1, which is loopback"), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("allow_private_destinations"), std::string::npos) << r.reason;
  }
  EXPECT_EQ(run.stats().connections_opened, 0u);
  EXPECT_EQ(run.stats().destinations_refused, 2u);
  run.close();
  EXPECT_EQ(local.accepted(), 0);
}

// Issue 16, defect 13: a pool per destination stayed for the life of the gateway.
TEST(DeliveryEngine, FreesIdleDestinationPools) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  DeliveryConfig config = fastConfig();
  config.client.idle_timeout = 50ms;  // connections say QUIT soon after their last message
  config.pool_idle_timeout = 100ms;
  {
    EngineRun run(config, routes("example.test", {sink.smtp()}));
    run.submit("example.test", batch(3));
    ASSERT_TRUE(run.waitForResults(3));
    EXPECT_EQ(delivered(run.results()), 3u);
    EXPECT_GE(run.pools(), 1u);
    ASSERT_TRUE(run.waitForPools(0)) << run.pools() << " pools left";
    EXPECT_EQ(run.stats().pools_retired, 1u);
    EXPECT_EQ(run.stats().connections_open, 0u);
    // A destination comes back with a fresh pool.
    run.submit("example.test", {message("again@example.test")});
    ASSERT_TRUE(run.waitForResults(4));
    EXPECT_EQ(delivered(run.results()), 4u);
    EXPECT_EQ(run.pools(), 1u);
  }
  EXPECT_EQ(sink.stop(), 0);
}

TEST(DeliveryEngine, DeliversIntoPostfixSmtpSink) {
  test::PostfixSmtpSink sink;
  ASSERT_TRUE(sink.start());
  constexpr size_t kMessages = 200;
  {
    EngineRun run(fastConfig(), routes("example.test", {sink.address()}));
    run.submit("example.test", batch(kMessages, 20000));
    ASSERT_TRUE(run.waitForResults(kMessages));
    std::vector<DeliveryResult> results = run.results();
    EXPECT_EQ(delivered(results), kMessages) << results.front().reason;
    EXPECT_EQ(results.front().reply.code, 250);
  }
  sink.stop();
}

TEST(DeliveryEngine, ConnectionCapHoldsUnderLoad) {
  // The sink answers 421 to a fourth connection from us: one would defer messages and back off.
  test::SinkProcess sink("[[sink.rule]]\nmax_connections_per_client = 3\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  DeliveryConfig config = fastConfig();
  config.limits.max_connections = 3;
  constexpr size_t kMessages = 300;
  {
    EngineRun run(config, routes("example.test", {sink.smtp()}));
    run.submit("example.test", batch(kMessages, 20000));
    ASSERT_TRUE(run.waitForResults(kMessages));
    EXPECT_EQ(delivered(run.results()), kMessages);
    DeliveryEngineStats s = run.stats();
    EXPECT_EQ(s.backoffs, 0u);
    EXPECT_EQ(s.connection_failures, 0u);
    EXPECT_EQ(s.connections_opened, 3u);  // the queue kept all three busy
  }
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), kMessages);
}

TEST(DeliveryEngine, FailsOverOn421GreetingAndBacksTheDestinationOff) {
  ScriptedSmtpServer busy([](ScriptedPeer& peer, int) {
    peer.send("421 4.3.2 Too busy\r\n");
    peer.waitForClose();
  });
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  {
    EngineRun run(fastConfig(), routes("example.test", {busy.address(), sink.smtp()}));
    run.submit("example.test", batch(1));
    ASSERT_TRUE(run.waitForResults(1));
    DeliveryResult first = run.results()[0];
    EXPECT_EQ(first.outcome, DeliveryOutcome::kDelivered) << first.reason;
    EXPECT_EQ(first.mx_address.toString(), sink.smtp().toString());
    EXPECT_EQ(first.attempts, 2u);
    // While backed off the busy destination is not even tried.
    run.submit("example.test", batch(5, 200, "later"));
    ASSERT_TRUE(run.waitForResults(6));
    EXPECT_EQ(delivered(run.results()), 6u);
    EXPECT_EQ(busy.accepted(), 1);
    DeliveryEngineStats s = run.stats();
    EXPECT_EQ(s.backoffs, 1u);
    EXPECT_EQ(s.failovers, 1u);
  }
  EXPECT_EQ(sink.stop(), 0);
}

TEST(DeliveryEngine, ResetBeforeTheGreetingFailsOverAndBacksOff) {
  ScriptedSmtpServer resetting([](ScriptedPeer& peer, int) { peer.reset(); });
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  {
    EngineRun run(fastConfig(), routes("example.test", {resetting.address(), sink.smtp()}));
    run.submit("example.test", batch(3));
    ASSERT_TRUE(run.waitForResults(3));
    EXPECT_EQ(delivered(run.results()), 3u);
    EXPECT_EQ(run.stats().backoffs, 1u);
    EXPECT_LE(resetting.accepted(), 3);  // no reconnect storm
  }
  EXPECT_EQ(sink.stop(), 0);
}

TEST(DeliveryEngine, DefersWithAReasonWhenNoMxTakesTheMessage) {
  SocketAddress nowhere = *SocketAddress::parse("127.0.0.1:" + std::to_string(test::freePort()));
  EngineRun run(fastConfig(), routes("example.test", {nowhere}));
  run.submit("example.test", batch(3));
  ASSERT_TRUE(run.waitForResults(3));
  for (const DeliveryResult& r : run.results()) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
    EXPECT_NE(r.reason.find("connect"), std::string::npos) << r.reason;
  }
}

TEST(DeliveryEngine, MessageLimitPerConnectionOpensFreshConnections) {
  test::PostfixSmtpSink sink;
  ASSERT_TRUE(sink.start());
  DeliveryConfig config = fastConfig();
  config.limits.max_connections = 1;
  config.limits.max_messages_per_connection = 3;
  {
    EngineRun run(config, routes("example.test", {sink.address()}));
    run.submit("example.test", batch(9));
    ASSERT_TRUE(run.waitForResults(9));
    EXPECT_EQ(delivered(run.results()), 9u);
    EXPECT_EQ(run.stats().connections_opened, 3u);
  }
  sink.stop();
}

TEST(DeliveryEngine, RetriesOnceWhenAReusedConnectionDiesBeforeAnyReply) {
  ScriptedSmtpServer server([](ScriptedPeer& peer, int index) {
    test::greetAndHello(peer, {"PIPELINING"});
    for (int i = 0; i < 3; ++i) peer.readLine();
    peer.send("250 Ok\r\n250 Ok\r\n354 go\r\n");
    peer.readUntil("\r\n.\r\n");
    peer.send("250 Ok\r\n");
    if (index == 0) {
      peer.readLine();  // the next transaction's RSET: the server goes away without a word
      return;
    }
    EXPECT_EQ(peer.readLine().value_or(""), "QUIT");
    peer.send("221 Bye\r\n");
  });
  EngineRun run(fastConfig(), routes("example.test", {server.address()}));
  run.submit("example.test", batch(1, 200, "first"));
  ASSERT_TRUE(run.waitForResults(1));
  run.submit("example.test", batch(1, 200, "second"));
  ASSERT_TRUE(run.waitForResults(2));
  std::vector<DeliveryResult> results = run.results();
  EXPECT_EQ(delivered(results), 2u) << results.back().reason;
  EXPECT_EQ(server.accepted(), 2);
}

TEST(DeliveryEngine, RefusesUnsafeEnvelopesWithoutConnecting) {
  ScriptedSmtpServer server([](ScriptedPeer& peer, int) { peer.waitForClose(); });
  EngineRun run(fastConfig(), routes("example.test", {server.address()}));
  std::vector<OutgoingMessage> bad = batch(2);
  bad[0].recipients = {"x@example.test>\r\nDATA"};
  bad[1].recipients.clear();
  run.submit("example.test", std::move(bad));
  ASSERT_TRUE(run.waitForResults(2));
  for (const DeliveryResult& r : run.results()) EXPECT_EQ(r.outcome, DeliveryOutcome::kBounced);
  EXPECT_EQ(server.accepted(), 0);
}

TEST(DeliveryEngine, CloseDefersWhatIsStillWaiting) {
  ScriptedSmtpServer silent([](ScriptedPeer& peer, int) { peer.waitForClose(); });  // never greets
  EngineRun run(fastConfig(), routes("example.test", {silent.address()}));
  run.submit("example.test", batch(5));
  run.close();
  std::vector<DeliveryResult> results = run.results();
  ASSERT_EQ(results.size(), 5u);
  for (const DeliveryResult& r : results) EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
}

}  // namespace
}  // namespace lbmail::delivery
