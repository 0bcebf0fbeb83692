// Tests of the MX resolver's cache and query sharing against a real dnsmasq: TTLs and negative
// answers on an injected clock, shared and capped queries, and callbacks that start lookups or
// close the resolver.
#include "lbmail/dns/mx_resolver.h"

#include <gtest/gtest.h>

#include <atomic>

#include "mx_resolver_test_support.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;

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

}  // namespace
}  // namespace lbmail::dns
