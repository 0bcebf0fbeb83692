// Tests of the MX resolver against a real dnsmasq, a server that never answers and a closed
// port, with the resolver on its own loop thread and an injected clock for TTLs.
#include "lbmail/dns/mx_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "dnsmasq_server.h"
#include "scripted_dns_server.h"
#include "events.h"
#include "loop_thread.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;
using lbmail::test::Events;
using lbmail::test::LoopThread;
using lbmail::test::DnsmasqServer;
using test::ScriptedDnsServer;

constexpr uint16_t kSmtpPort = 2525;

const std::vector<std::string> kRecords = {
    "--mx-host=example.test,mx1.example.test,10",
    "--mx-host=example.test,mx2.example.test,20",
    "--mx-host=example.test,mx3.example.test,20",
    "--host-record=mx1.example.test,127.0.0.2",
    "--host-record=mx2.example.test,127.0.0.3,::1",
    "--host-record=mx3.example.test,127.0.0.4",
    "--host-record=implicit.test,127.0.0.5",
    "--mx-host=nullmx.test,.,0",
    "--txt-record=nodata.test,no mail here",
    "--cname=alias.test,example.test",
    "--cname=alias2.test,mx1.example.test",
    "--mx-host=coalesce.test,mx1.example.test,10",
    "--mx-host=deadhosts.test,nowhere.test,10",
    "--mx-host=partial.test,nowhere.test,5",
    "--mx-host=partial.test,mx1.example.test,10",
};

// A steady clock the test moves by hand; read on the loop thread.
using TimePoint = std::chrono::steady_clock::time_point;

class ManualClock {
 public:
  TimePoint now() const { return base_ + Duration(offset_.load()); }
  void advance(Duration d) { offset_ += d.count(); }

 private:
  TimePoint base_ = std::chrono::steady_clock::now();
  std::atomic<int64_t> offset_{0};
};

// An MxResolver on a loop thread; every call crosses to the loop and waits for what it asked.
class ResolverOnLoop {
 public:
  explicit ResolverOnLoop(ResolverConfig config) {
    config.smtp_port = kSmtpPort;
    loop_.call([&] {
      resolver_ = std::make_unique<MxResolver>(loop_.loop(), config, [this] { return clock_.now(); });
      start_error_ = resolver_->start();
    });
  }
  ~ResolverOnLoop() {
    if (!stopped_) close();
  }

  const std::string& startError() const { return start_error_; }
  ManualClock& clock() { return clock_; }
  LoopThread& loop() { return loop_; }
  MxResolver& resolver() { return *resolver_; }  // on the loop thread only

  // Starts every lookup in one turn of the loop and waits for all their answers.
  std::vector<MxAnswer> resolveAll(const std::vector<std::string>& domains) {
    auto answers = std::make_shared<std::vector<MxAnswer>>();
    loop_.call([&] {
      for (const std::string& d : domains) {
        resolver_->resolve(d, [this, answers](const MxAnswer& a) { events_.update([&] { answers->push_back(a); }); });
      }
    });
    bool all = events_.waitFor([&] { return answers->size() == domains.size(); });
    std::vector<MxAnswer> out;
    events_.locked([&] { out = *answers; });
    EXPECT_TRUE(all) << "answers missing: " << out.size() << " of " << domains.size();
    return out;
  }
  MxAnswer resolve(const std::string& domain) {
    std::vector<MxAnswer> a = resolveAll({domain});
    return a.empty() ? MxAnswer{} : a[0];
  }

  ResolverStats stats() {
    ResolverStats s;
    loop_.call([&] { s = resolver_->stats(); });
    return s;
  }

  // Closes the resolver, destroys it in its close callback as the engine may, and returns
  // what stopping the loop says: 0 when no handle was left open.
  int close() {
    bool closed = false;
    loop_.call([&] {
      resolver_->close([&] {
        resolver_.reset();
        events_.update([&] { closed = true; });
      });
    });
    EXPECT_TRUE(events_.waitFor([&] { return closed; }));
    return stopLoop();
  }
  // For a test that closed the resolver itself; it is destroyed with this object.
  int stopLoop() {
    stopped_ = true;
    return loop_.stop();
  }

 private:
  ManualClock clock_;
  LoopThread loop_;
  Events events_;
  std::unique_ptr<MxResolver> resolver_;
  std::string start_error_;
  bool stopped_ = false;
};

std::vector<std::string> addressesOf(const MxTarget& t) {
  std::vector<std::string> out;
  for (const SocketAddress& a : t.addresses) out.push_back(a.toString());
  return out;
}

class MxResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error = dns_.start();
    ASSERT_EQ(error, "");
    config_.servers = {dns_.address()};
    config_.query_timeout = 2s;
  }

  DnsmasqServer dns_{kRecords};
  ResolverConfig config_;
};

TEST_F(MxResolverTest, HostsComeByPreferenceWithTheirAddressesAndPort) {
  ResolverOnLoop r(config_);
  ASSERT_EQ(r.startError(), "");
  MxAnswer a = r.resolve("Example.TEST");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  EXPECT_FALSE(a.from_cache);
  EXPECT_FALSE(a.implicit_mx);
  EXPECT_FALSE(a.static_route);
  ASSERT_EQ(a.targets.size(), 3u);
  EXPECT_EQ(a.targets[0].host, "mx1.example.test");
  EXPECT_EQ(a.targets[0].preference, 10);
  EXPECT_EQ(addressesOf(a.targets[0]), std::vector<std::string>{"127.0.0.2:2525"});
  EXPECT_EQ(a.targets[1].preference, 20);
  EXPECT_EQ(a.targets[2].preference, 20);
  std::set<std::string> second_rank = {a.targets[1].host, a.targets[2].host};
  EXPECT_EQ(second_rank, (std::set<std::string>{"mx2.example.test", "mx3.example.test"}));
  const MxTarget& mx2 = a.targets[1].host == "mx2.example.test" ? a.targets[1] : a.targets[2];
  EXPECT_EQ(addressesOf(mx2), (std::vector<std::string>{"127.0.0.3:2525", "[::1]:2525"}));
  // One MX query, then A and AAAA for each of the three hosts.
  ResolverStats s = r.stats();
  EXPECT_EQ(s.queries_sent, 7u);
  EXPECT_EQ(s.cache_misses, 1u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, EqualPreferencesComeInBothOrders) {
  ResolverOnLoop r(config_);
  std::set<std::string> firsts;
  for (int i = 0; i < 64 && firsts.size() < 2; ++i) {
    MxAnswer a = r.resolve("example.test");
    ASSERT_EQ(a.targets.size(), 3u);
    EXPECT_EQ(a.targets[0].host, "mx1.example.test");  // the best preference stays first
    firsts.insert(a.targets[1].host);
  }
  // A fixed order would fail here with certainty; a fair shuffle with probability 2^-63.
  EXPECT_EQ(firsts.size(), 2u);
  EXPECT_EQ(r.stats().queries_sent, 7u);  // every lookup after the first came from the cache
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, NoMxMeansTheDomainItselfAsImplicitMx) {
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("implicit.test");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  EXPECT_TRUE(a.implicit_mx);
  ASSERT_EQ(a.targets.size(), 1u);
  EXPECT_EQ(a.targets[0].host, "implicit.test");
  EXPECT_EQ(a.targets[0].preference, 0);
  EXPECT_EQ(addressesOf(a.targets[0]), std::vector<std::string>{"127.0.0.5:2525"});
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, NullMxIsPermanent) {
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("nullmx.test");
  EXPECT_EQ(a.status, LookupStatus::kPermanent);
  EXPECT_EQ(a.reason, "null MX (RFC 7505)");
  EXPECT_TRUE(a.targets.empty());
  EXPECT_EQ(r.stats().queries_sent, 1u);  // no address lookup for the root
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, NxDomainIsPermanentAndCachedUpToTheNegativeMaximum) {
  config_.negative_ttl_max = 30s;
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("nothere.test");
  EXPECT_EQ(a.status, LookupStatus::kPermanent);
  EXPECT_EQ(a.reason, "NXDOMAIN");
  EXPECT_FALSE(a.from_cache);
  r.clock().advance(29s);
  MxAnswer b = r.resolve("nothere.test");
  EXPECT_EQ(b.status, LookupStatus::kPermanent);
  EXPECT_TRUE(b.from_cache);
  EXPECT_EQ(r.stats().queries_sent, 1u);
  r.clock().advance(2s);
  MxAnswer c = r.resolve("nothere.test");
  EXPECT_FALSE(c.from_cache);
  EXPECT_EQ(r.stats().queries_sent, 2u);
  EXPECT_EQ(r.stats().failures, 3u);
  EXPECT_EQ(dns_.queriesLogged("MX", "nothere.test"), 2u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, NoDataForMxAndAddressesIsPermanent) {
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("nodata.test");
  EXPECT_EQ(a.status, LookupStatus::kPermanent);
  EXPECT_EQ(a.reason, "no MX and no A or AAAA record");
  EXPECT_TRUE(a.implicit_mx);
  EXPECT_EQ(r.stats().queries_sent, 3u);  // MX, then A and AAAA of the domain itself
  MxAnswer b = r.resolve("nodata.test");
  EXPECT_TRUE(b.from_cache);  // all three no-data answers were cached
  EXPECT_EQ(b.reason, a.reason);
  EXPECT_EQ(r.stats().queries_sent, 3u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, CnameToADomainWithMxRecords) {
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("alias.test");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  ASSERT_EQ(a.targets.size(), 3u);
  EXPECT_EQ(a.targets[0].host, "mx1.example.test");
  // dnsmasq followed the CNAME itself: one MX query.
  EXPECT_EQ(dns_.queriesLogged("MX", "alias.test"), 1u);
  EXPECT_EQ(dns_.queriesLogged("MX", "example.test"), 0u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, CnameWithoutTheTargetsRecordsIsFollowedByAQueryOfItsOwn) {
  ResolverOnLoop r(config_);
  // dnsmasq answers alias2.test MX with the CNAME alone; the resolver asks the target, which
  // has no MX: implicit MX, whose A lookup goes through the CNAME too.
  MxAnswer a = r.resolve("alias2.test");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  EXPECT_TRUE(a.implicit_mx);
  ASSERT_EQ(a.targets.size(), 1u);
  EXPECT_EQ(addressesOf(a.targets[0]), std::vector<std::string>{"127.0.0.2:2525"});
  EXPECT_EQ(dns_.queriesLogged("MX", "alias2.test"), 1u);
  EXPECT_EQ(dns_.queriesLogged("MX", "mx1.example.test"), 1u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, MxHostsWithoutAddressAreSkipped) {
  ResolverOnLoop r(config_);
  MxAnswer partial = r.resolve("partial.test");
  ASSERT_EQ(partial.status, LookupStatus::kOk) << partial.reason;
  ASSERT_EQ(partial.targets.size(), 1u);
  EXPECT_EQ(partial.targets[0].host, "mx1.example.test");
  MxAnswer dead = r.resolve("deadhosts.test");
  EXPECT_EQ(dead.status, LookupStatus::kTemporary);
  EXPECT_EQ(dead.reason, "MX hosts have no address");
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, AnswersLiveForTheirTtlOnTheInjectedClock) {
  ResolverOnLoop r(config_);
  EXPECT_FALSE(r.resolve("example.test").from_cache);
  EXPECT_EQ(r.stats().queries_sent, 7u);
  r.clock().advance(299s);  // dnsmasq's records carry TTL 300
  MxAnswer cached = r.resolve("example.test");
  EXPECT_TRUE(cached.from_cache);
  EXPECT_EQ(cached.targets.size(), 3u);
  EXPECT_EQ(r.stats().queries_sent, 7u);
  EXPECT_EQ(r.stats().cache_hits, 1u);
  r.clock().advance(2s);
  MxAnswer fresh = r.resolve("example.test");
  EXPECT_FALSE(fresh.from_cache);
  EXPECT_EQ(fresh.targets.size(), 3u);
  EXPECT_EQ(r.stats().queries_sent, 14u);
  EXPECT_EQ(dns_.queriesLogged("MX", "example.test"), 2u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, MaxTtlShortensWhatTheServerAllows) {
  config_.max_ttl = 60s;
  ResolverOnLoop r(config_);
  r.resolve("implicit.test");
  r.clock().advance(59s);
  EXPECT_TRUE(r.resolve("implicit.test").from_cache);
  r.clock().advance(2s);
  EXPECT_FALSE(r.resolve("implicit.test").from_cache);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, ConcurrentLookupsOfOneDomainShareOneQuery) {
  ResolverOnLoop r(config_);
  constexpr size_t kLookups = 20;
  std::vector<MxAnswer> answers = r.resolveAll(std::vector<std::string>(kLookups, "coalesce.test"));
  ASSERT_EQ(answers.size(), kLookups);
  for (const MxAnswer& a : answers) {
    ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
    EXPECT_EQ(a.targets[0].host, "mx1.example.test");
  }
  ResolverStats s = r.stats();
  EXPECT_EQ(s.coalesced, kLookups - 1);
  EXPECT_EQ(s.queries_sent, 3u);  // MX, A, AAAA
  EXPECT_EQ(dns_.queriesLogged("MX", "coalesce.test"), 1u);
  EXPECT_EQ(dns_.queriesLogged("A", "mx1.example.test"), 1u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, DomainsSharingAnMxHostShareItsAddressQueries) {
  ResolverOnLoop r(config_);
  std::vector<MxAnswer> answers = r.resolveAll({"coalesce.test", "partial.test", "example.test"});
  ASSERT_EQ(answers.size(), 3u);
  for (const MxAnswer& a : answers) EXPECT_EQ(a.status, LookupStatus::kOk) << a.reason;
  EXPECT_EQ(dns_.queriesLogged("A", "mx1.example.test"), 1u);
  EXPECT_EQ(dns_.queriesLogged("AAAA", "mx1.example.test"), 1u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, QueriesBeyondTheInFlightCapWaitTheirTurn) {
  config_.max_in_flight = 2;
  ResolverOnLoop r(config_);
  constexpr int kDomains = 20;
  std::atomic<int> answered{0};
  std::atomic<uint64_t> most_in_flight{0};
  std::atomic<bool> done{false};
  Events events;
  ResolverStats at_start;
  r.loop().call([&] {
    for (int i = 0; i < kDomains; ++i) {
      r.resolver().resolve("cap" + std::to_string(i) + ".test", [&](const MxAnswer& a) {
        EXPECT_EQ(a.status, LookupStatus::kPermanent);
        most_in_flight = std::max<uint64_t>(most_in_flight, r.resolver().stats().in_flight);
        if (++answered == kDomains) events.update([&] { done = true; });
      });
    }
    at_start = r.resolver().stats();
  });
  EXPECT_EQ(at_start.in_flight, 2u);
  EXPECT_EQ(at_start.waiting, 18u);
  ASSERT_TRUE(events.waitFor([&] { return done.load(); }));
  ResolverStats s = r.stats();
  EXPECT_EQ(s.queued, 18u);
  EXPECT_EQ(s.queries_sent, 20u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_LE(most_in_flight.load(), 2u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, RefusedIsTemporaryAndRememberedBriefly) {
  config_.temporary_failure_ttl = 10s;
  ResolverOnLoop r(config_);
  // dnsmasq serves only .test. c-ares 1.18 reports a REFUSED answer as ARES_ECONNREFUSED,
  // as it does SERVFAIL and an ICMP port unreachable: the reason cannot tell them apart.
  MxAnswer a = r.resolve("example.org");
  EXPECT_EQ(a.status, LookupStatus::kTemporary);
  EXPECT_EQ(a.reason, "SERVFAIL, REFUSED or unreachable");
  MxAnswer b = r.resolve("example.org");
  EXPECT_TRUE(b.from_cache);
  EXPECT_EQ(b.reason, a.reason);
  r.clock().advance(11s);
  EXPECT_FALSE(r.resolve("example.org").from_cache);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, StaticRoutesBypassDns) {
  config_.static_routes = {
      {"Routed.Test", {*SocketAddress::parse("127.0.0.9:2600"), *SocketAddress::parse("[::1]:2601")}}};
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("routed.test.");
  ASSERT_EQ(a.status, LookupStatus::kOk);
  EXPECT_TRUE(a.static_route);
  ASSERT_EQ(a.targets.size(), 1u);
  EXPECT_EQ(a.targets[0].host, "");
  EXPECT_EQ(addressesOf(a.targets[0]), (std::vector<std::string>{"127.0.0.9:2600", "[::1]:2601"}));
  EXPECT_EQ(r.stats().queries_sent, 0u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, InvalidDomainIsPermanentWithoutAQuery) {
  ResolverOnLoop r(config_);
  MxAnswer a = r.resolve("not a domain");
  EXPECT_EQ(a.status, LookupStatus::kPermanent);
  EXPECT_EQ(a.reason, "invalid domain");
  EXPECT_EQ(r.stats().queries_sent, 0u);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, CachedAnswerRunsBeforeResolveReturns) {
  ResolverOnLoop r(config_);
  r.resolve("example.test");
  bool ran = false;
  bool ran_inside = false;
  r.loop().call([&] {
    r.resolver().resolve("example.test", [&](const MxAnswer& a) { ran = a.from_cache; });
    ran_inside = ran;
  });
  EXPECT_TRUE(ran_inside);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, ALookupStartedFromACallbackIsAnswered) {
  ResolverOnLoop r(config_);
  Events events;
  MxAnswer second;
  bool done = false;
  r.loop().call([&] {
    r.resolver().resolve("implicit.test", [&](const MxAnswer&) {
      r.resolver().resolve("example.test", [&](const MxAnswer& a) {
        events.update([&] {
          second = a;
          done = true;
        });
      });
    });
  });
  ASSERT_TRUE(events.waitFor([&] { return done; }));
  events.locked([&] { EXPECT_EQ(second.targets.size(), 3u); });
  EXPECT_EQ(r.close(), 0);
}

TEST_F(MxResolverTest, CloseFromACallbackStopsTheOtherCallbacks) {
  ResolverOnLoop r(config_);
  std::atomic<int> calls{0};
  Events events;
  bool closed = false;
  r.loop().call([&] {
    for (int i = 0; i < 3; ++i) {
      r.resolver().resolve("coalesce.test", [&](const MxAnswer&) {
        if (++calls > 1) return;
        r.resolver().close([&] { events.update([&] { closed = true; }); });
      });
    }
  });
  ASSERT_TRUE(events.waitFor([&] { return closed; }));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(r.stopLoop(), 0);
}

// Servers that misbehave, played by a scripted server or a closed port.
std::vector<uint8_t> silence(std::span<const uint8_t>) { return {}; }

ResolverConfig configFor(const SocketAddress& server, Duration timeout) {
  ResolverConfig config;
  config.servers = {server};
  config.query_timeout = timeout;
  config.query_tries = 2;
  return config;
}

TEST(MxResolverFailures, SilentServerTimesOutAsTemporary) {
  ScriptedDnsServer silent(silence);
  ResolverOnLoop r(configFor(silent.address(), 100ms));
  auto started = std::chrono::steady_clock::now();
  MxAnswer a = r.resolve("example.test");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(a.status, LookupStatus::kTemporary);
  EXPECT_EQ(a.reason, "timeout");
  EXPECT_LT(took, 5s);
  EXPECT_EQ(silent.waitForQueries(2), 2u);  // one query, two tries
  // Remembered for temporary_failure_ttl: asked again at once, no new query goes out.
  EXPECT_TRUE(r.resolve("example.test").from_cache);
  EXPECT_EQ(r.stats().queries_sent, 1u);
  EXPECT_EQ(r.close(), 0);
}

TEST(MxResolverFailures, ServfailIsTemporary) {
  ScriptedDnsServer server([](std::span<const uint8_t> q) { return ScriptedDnsServer::replyWithRcode(q, 2); });
  ResolverOnLoop r(configFor(server.address(), 1s));
  MxAnswer a = r.resolve("example.test");
  EXPECT_EQ(a.status, LookupStatus::kTemporary);
  EXPECT_EQ(a.reason, "SERVFAIL, REFUSED or unreachable");
  EXPECT_EQ(server.waitForQueries(2), 2u);  // c-ares asked again before giving up
  EXPECT_EQ(r.close(), 0);
}

TEST(MxResolverFailures, MalformedAnswerIsTemporary) {
  // An MX record whose RDLENGTH (40) runs past the end of the message.
  std::vector<uint8_t> record = {0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 40, 0, 10, 0};
  ScriptedDnsServer server([&](std::span<const uint8_t> q) { return ScriptedDnsServer::replyWithAnswer(q, record); });
  ResolverOnLoop r(configFor(server.address(), 1s));
  MxAnswer a = r.resolve("example.test");
  EXPECT_EQ(a.status, LookupStatus::kTemporary);
  EXPECT_EQ(a.reason, "malformed answer: answer: rdata past the end");
  EXPECT_EQ(r.close(), 0);
}

TEST(MxResolverFailures, ClosedPortIsTemporary) {
  ResolverOnLoop r(configFor(*SocketAddress::parse("127.0.0.1:" + std::to_string(lbmail::test::freeUdpPort())), 1s));
  MxAnswer a = r.resolve("example.test");
  EXPECT_EQ(a.status, LookupStatus::kTemporary);
  EXPECT_EQ(a.reason, "SERVFAIL, REFUSED or unreachable");
  EXPECT_EQ(r.close(), 0);
}

TEST(MxResolverFailures, CloseWithLookupsPendingRunsNoCallback) {
  ScriptedDnsServer silent(silence);
  ResolverOnLoop r(configFor(silent.address(), 10s));
  std::atomic<int> calls{0};
  ResolverStats pending;
  r.loop().call([&] {
    for (int i = 0; i < 5; ++i) {
      r.resolver().resolve("pending" + std::to_string(i) + ".test", [&](const MxAnswer&) { ++calls; });
    }
    pending = r.resolver().stats();
  });
  EXPECT_EQ(pending.in_flight, 5u);
  EXPECT_EQ(silent.waitForQueries(5), 5u);
  EXPECT_EQ(r.close(), 0);
  EXPECT_EQ(calls.load(), 0);
}

TEST(MxResolverFailures, BadServerAddressIsAStartError) {
  ResolverConfig config;
  config.servers = {*SocketAddress::parse("127.0.0.1:0")};
  LoopThread loop;
  std::string error;
  loop.call([&] {
    MxResolver resolver(loop.loop(), config);
    error = resolver.start();
    resolver.close({});
  });
  EXPECT_EQ(error, "DNS server 127.0.0.1:0 has no port");
  EXPECT_EQ(loop.stop(), 0);
}

}  // namespace
}  // namespace lbmail::dns
