// MtaStsResolver end to end on the loop: records from a scripted DNS server, policies from a
// real HTTPS server (policy_server.py), the cache on an injected clock.
#include "lbmail/mta_sts/mta_sts_resolver.h"

#include <gtest/gtest.h>

#include <optional>

#include "policy_dns.h"
#include "policy_server.h"

namespace lbmail::mta_sts {
namespace {

using Mode = MtaStsPolicy::Mode;
using test::PolicyDns;
using test::PolicyServer;
using test::policyText;
using test::servedRoute;

const std::string kGoodBody = policyText("enforce", {"mx1.good.test", "*.mx.good.test"}, 3600);

class MtaStsResolverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  void TearDown() override {
    int closed = 0;
    if (resolver_) resolver_->close([&] { ++closed; });
    if (mx_) mx_->close([&] { ++closed; });
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(closed, (resolver_ ? 1 : 0) + (mx_ ? 1 : 0));
    resolver_.reset();
    mx_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // The server's routes; every domain given gets a policy host in DNS.
  void startServer(std::map<std::string, test::PolicyRoute> hosts, std::vector<std::string> expired = {}) {
    for (const auto& [host, route] : hosts) dns_.addPolicyHost(host.substr(std::string("mta-sts.").size()));
    server_ = std::make_unique<PolicyServer>(std::move(hosts), std::move(expired));
    ASSERT_TRUE(server_->start());
  }

  void startResolver(MtaStsSettings settings = {}) {
    dns::ResolverConfig config;
    config.servers = {dns_.address()};
    config.negative_ttl_max = std::chrono::seconds(0);
    config.temporary_failure_ttl = std::chrono::seconds(0);
    mx_ = std::make_unique<dns::MxResolver>(&loop_, config);
    ASSERT_EQ(mx_->start(), "");
    if (server_) {
      settings.ca_file = server_->caFile();
      settings.port = server_->port();
    }
    settings.fetch_timeout = std::chrono::seconds(20);
    resolver_ = std::make_unique<MtaStsResolver>(&loop_, *mx_, settings, [this] { return std::chrono::steady_clock::now() + offset_; });
    ASSERT_EQ(resolver_->start(), "");
  }

  // Runs the loop until the lookup has answered.
  MtaStsLookup lookup(const std::string& domain) {
    std::optional<MtaStsLookup> got;
    resolver_->lookup(domain, [&](const MtaStsLookup& l) { got = l; });
    while (!got && uv_run(&loop_, UV_RUN_ONCE) != 0) {
    }
    EXPECT_TRUE(got.has_value());
    return got.value_or(MtaStsLookup{nullptr, "no answer"});
  }

  size_t requestsFor(const std::string& host) {
    server_->stop();
    return server_->requestsFor(host);
  }

  uv_loop_t loop_;
  PolicyDns dns_;
  std::unique_ptr<PolicyServer> server_;
  std::unique_ptr<dns::MxResolver> mx_;
  std::unique_ptr<MtaStsResolver> resolver_;
  std::chrono::seconds offset_{0};
};

TEST_F(MtaStsResolverTest, AGoodPolicyIsFetchedOnceThenCached) {
  dns_.setRecords("good.test", {"v=spf1 -all", "v=STSv1; id=20261205;"});
  startServer({{"mta-sts.good.test", servedRoute(kGoodBody)}});
  startResolver();
  MtaStsLookup first = lookup("Good.Test.");
  ASSERT_TRUE(first.policy) << first.note;
  EXPECT_EQ(first.note, "fetched id=20261205");
  EXPECT_EQ(first.policy->mode, Mode::kEnforce);
  EXPECT_TRUE(first.policy->matches("a.mx.good.test"));
  EXPECT_FALSE(first.policy->matches("mx2.good.test"));
  MtaStsLookup again = lookup("good.test");
  EXPECT_EQ(again.note, "cached id=20261205");
  EXPECT_EQ(again.policy, first.policy);
  EXPECT_EQ(resolver_->stats().fetches, 1u);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  EXPECT_EQ(resolver_->cacheSize(), 1u);
  EXPECT_EQ(requestsFor("mta-sts.good.test"), 1u);
}

TEST_F(MtaStsResolverTest, ATestingPolicyComesBackInTestingMode) {
  dns_.setRecords("trial.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.trial.test", servedRoute(policyText("testing", {"mx.trial.test"}, 600))}});
  startResolver();
  MtaStsLookup l = lookup("trial.test");
  ASSERT_TRUE(l.policy) << l.note;
  EXPECT_EQ(l.policy->mode, Mode::kTesting);
  EXPECT_EQ(l.policy->mx, std::vector<std::string>{"mx.trial.test"});
}

TEST_F(MtaStsResolverTest, NoRecordMeansNoPolicyAndNoFetch) {
  startServer({{"mta-sts.plain.test", servedRoute(kGoodBody)}});
  startResolver();
  MtaStsLookup l = lookup("plain.test");
  EXPECT_FALSE(l.policy);
  EXPECT_EQ(l.note.rfind("no MTA-STS record: ", 0), 0u) << l.note;
  EXPECT_EQ(resolver_->stats().fetches, 0u);
  EXPECT_EQ(requestsFor("mta-sts.plain.test"), 0u);
}

TEST_F(MtaStsResolverTest, ABrokenPolicyMeansNone) {
  dns_.setRecords("broken.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.broken.test", servedRoute("<html>it works</html>\n")}});
  startResolver();
  MtaStsLookup l = lookup("broken.test");
  EXPECT_FALSE(l.policy);
  EXPECT_EQ(l.note, "policy refused: line 1: no ':'");
  EXPECT_EQ(resolver_->stats().fetch_failures, 1u);
}

TEST_F(MtaStsResolverTest, AnExpiredCertificateMeansNone) {
  dns_.setRecords("old.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.old.test", servedRoute(kGoodBody)}}, {"mta-sts.old.test"});
  startResolver();
  MtaStsLookup l = lookup("old.test");
  EXPECT_FALSE(l.policy);
  EXPECT_NE(l.note.find("certificate has expired"), std::string::npos) << l.note;
}

TEST_F(MtaStsResolverTest, APolicyHostWithoutAddressMeansNone) {
  dns_.setRecords("lost.test", {"v=STSv1; id=1"});
  startResolver();
  MtaStsLookup l = lookup("lost.test");
  EXPECT_FALSE(l.policy);
  EXPECT_EQ(l.note.rfind("policy host mta-sts.lost.test: ", 0), 0u) << l.note;
}

TEST_F(MtaStsResolverTest, APolicyHostOnARefusedAddressIsNotFetched) {
  // A recipient domain must not point the gateway at its own network: the engine refuses
  // private and loopback policy hosts as it refuses such MX hosts.
  dns_.setRecords("inside.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.inside.test", servedRoute(kGoodBody)}});
  MtaStsSettings settings;
  settings.address_refusal = [](const SocketAddress& a) { return a.host() + " is loopback: not fetched"; };
  startResolver(settings);
  MtaStsLookup l = lookup("inside.test");
  EXPECT_FALSE(l.policy);
  EXPECT_NE(l.note.find("is loopback: not fetched"), std::string::npos) << l.note;
  EXPECT_EQ(requestsFor("mta-sts.inside.test"), 0u);
}

TEST_F(MtaStsResolverTest, OneFetchPerDomainInFlight) {
  dns_.setRecords("busy.test", {"v=STSv1; id=7"});
  startServer({{"mta-sts.busy.test", servedRoute(kGoodBody)}});
  startResolver();
  std::vector<MtaStsLookup> got;
  for (int i = 0; i < 3; ++i) resolver_->lookup("busy.test", [&](const MtaStsLookup& l) { got.push_back(l); });
  while (got.size() < 3 && uv_run(&loop_, UV_RUN_ONCE) != 0) {
  }
  ASSERT_EQ(got.size(), 3u);
  for (const MtaStsLookup& l : got) {
    EXPECT_EQ(l.note, "fetched id=7");
    EXPECT_EQ(l.policy, got[0].policy);
  }
  EXPECT_EQ(resolver_->stats().joined, 2u);
  EXPECT_EQ(resolver_->stats().fetches, 1u);
  EXPECT_EQ(requestsFor("mta-sts.busy.test"), 1u);
}

TEST_F(MtaStsResolverTest, ANewIdFetchesAgain) {
  dns_.setRecords("good.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.good.test", servedRoute(kGoodBody)}});
  startResolver();
  EXPECT_EQ(lookup("good.test").note, "fetched id=1");
  dns_.setRecords("good.test", {"v=STSv1; id=2"});
  EXPECT_EQ(lookup("good.test").note, "fetched id=2");
  EXPECT_EQ(lookup("good.test").note, "cached id=2");
  EXPECT_EQ(requestsFor("mta-sts.good.test"), 2u);
}

// RFC 8461 section 3.3: when no live policy can be had, a valid cached one applies; once
// expired, nothing does.
TEST_F(MtaStsResolverTest, TheCachedPolicyStandsInUntilItExpires) {
  dns_.setRecords("good.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.good.test", servedRoute(kGoodBody)}});
  startResolver();
  std::shared_ptr<const MtaStsPolicy> fetched = lookup("good.test").policy;
  ASSERT_TRUE(fetched);
  server_->stop();
  dns_.setRecords("good.test", {"v=STSv1; id=2"});
  MtaStsLookup unreachable = lookup("good.test");
  EXPECT_EQ(unreachable.policy, fetched);
  EXPECT_EQ(unreachable.note.rfind("policy fetch failed: ", 0), 0u) << unreachable.note;
  EXPECT_TRUE(unreachable.note.ends_with("; cached id=1")) << unreachable.note;
  dns_.setRecords("good.test", {});
  MtaStsLookup withdrawn = lookup("good.test");
  EXPECT_EQ(withdrawn.policy, fetched);
  EXPECT_TRUE(withdrawn.note.ends_with("; cached id=1")) << withdrawn.note;
  offset_ = std::chrono::seconds(3601);
  MtaStsLookup expired = lookup("good.test");
  EXPECT_FALSE(expired.policy);
  EXPECT_EQ(resolver_->cacheSize(), 0u);
}

TEST_F(MtaStsResolverTest, AFailedFetchIsRememberedForItsId) {
  dns_.setRecords("broken.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.broken.test", servedRoute("nonsense\n")}});
  MtaStsSettings settings;
  settings.failure_ttl = std::chrono::seconds(300);
  startResolver(settings);
  std::string note = lookup("broken.test").note;
  EXPECT_EQ(lookup("broken.test").note, note);
  EXPECT_EQ(resolver_->stats().fetches, 1u);
  offset_ = std::chrono::seconds(301);
  EXPECT_EQ(lookup("broken.test").note, note);
  EXPECT_EQ(resolver_->stats().fetches, 2u);
  dns_.setRecords("broken.test", {"v=STSv1; id=2"});
  lookup("broken.test");
  EXPECT_EQ(resolver_->stats().fetches, 3u);
  EXPECT_EQ(requestsFor("mta-sts.broken.test"), 3u);
}

TEST_F(MtaStsResolverTest, AnInvalidDomainIsAnsweredAtOnce) {
  startResolver();
  bool called = false;
  resolver_->lookup("not a domain", [&](const MtaStsLookup& l) {
    called = true;
    EXPECT_FALSE(l.policy);
    EXPECT_EQ(l.note, "invalid domain");
  });
  EXPECT_TRUE(called);
}

TEST_F(MtaStsResolverTest, CloseDropsLookupsInFlight) {
  dns_.setRecords("good.test", {"v=STSv1; id=1"});
  startServer({{"mta-sts.good.test", servedRoute(kGoodBody)}});
  startResolver();
  bool called = false;
  resolver_->lookup("good.test", [&](const MtaStsLookup&) { called = true; });
  bool closed = false;
  resolver_->close([&] { closed = true; });
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_TRUE(closed);
  resolver_->lookup("good.test", [&](const MtaStsLookup&) { called = true; });
  resolver_.reset();  // the DNS answer may still come: it must find nobody
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace lbmail::mta_sts
