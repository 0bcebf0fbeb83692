// Tests of MX lookups against a real dnsmasq (hosts, implicit and null MX, CNAMEs, static routes),
// a server that never answers or answers badly, and a closed port, with the resolver on its own
// loop thread.
#include "lbmail/dns/mx_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "mx_resolver_test_support.h"
#include "scripted_dns_server.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;
using test::ScriptedDnsServer;

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
