// Tests for src/initiator/site_table.cc: domains learn their site, each gateway's SITES report
// replaces what it said before, suspension and warm-up say when a gateway may not send to a
// site, and a throttled site's wait grows with what is in flight there.
#include "site_table.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

using proto::SitesFrame;
using proto::SiteStatus;

SitesFrame sites(std::vector<SiteStatus> list) {
  SitesFrame f;
  f.sites = std::move(list);
  return f;
}

SiteStatus suspended(std::string_view site, uint32_t ms) { return {site, ms, 0, 0, SiteStatus::kNoWarmupCap}; }
SiteStatus throttled(std::string_view site, uint32_t rate_millis) {
  return {site, 0, rate_millis, 0, SiteStatus::kNoWarmupCap};
}
SiteStatus warmup(std::string_view site, uint32_t left) { return {site, 0, 0, 0, left}; }

TEST(SiteTable, DomainsLearnTheirSiteFromTheGateways) {
  SiteTable t(2);
  EXPECT_EQ(t.siteOf(0), SiteTable::kUnknown);
  EXPECT_EQ(t.siteOf(7), SiteTable::kUnknown);
  EXPECT_EQ(t.learn(3, "gmail"), SiteTable::kUnknown);
  EXPECT_EQ(t.learn(4, "gmail"), SiteTable::kUnknown);
  ASSERT_GE(t.siteOf(3), 0);
  EXPECT_EQ(t.siteOf(3), t.siteOf(4));  // one site, interned once
  EXPECT_EQ(t.name(static_cast<uint32_t>(t.siteOf(3))), "gmail");
  EXPECT_EQ(t.learn(3, "gmail"), t.siteOf(3));
  // A gateway that does not know the site says "": that changes nothing.
  EXPECT_EQ(t.learn(3, ""), t.siteOf(4));
  EXPECT_EQ(t.siteOf(3), t.siteOf(4));
  EXPECT_EQ(t.learn(9, ""), SiteTable::kUnknown);
  EXPECT_EQ(t.siteOf(9), SiteTable::kUnknown);
  // MX hosts joined name a site of their own.
  t.learn(5, "mx1.example.test,mx2.example.test");
  EXPECT_NE(t.siteOf(5), t.siteOf(3));
}

TEST(SiteTable, ASuspensionHoldsForTheTimeLeftWhenReported) {
  SiteTable t(2);
  uint32_t gmail = t.intern("gmail");
  t.report(0, sites({suspended("gmail", 60'000)}), 1'000);
  EXPECT_TRUE(t.unavailable(0, gmail, 1'000));
  EXPECT_TRUE(t.unavailable(0, gmail, 60'999));
  EXPECT_FALSE(t.unavailable(0, gmail, 61'000));
  // Only on the gateway that said so.
  EXPECT_FALSE(t.unavailable(1, gmail, 1'000));
  // A site this initiator had not seen yet is interned from the report.
  t.report(1, sites({suspended("yahoo", 10)}), 1'000);
  EXPECT_TRUE(t.unavailable(1, t.intern("yahoo"), 1'005));
}

TEST(SiteTable, AReportReplacesTheGatewaysWholeView) {
  SiteTable t(1);
  uint32_t gmail = t.intern("gmail");
  uint32_t yahoo = t.intern("yahoo");
  t.report(0, sites({suspended("gmail", 60'000), suspended("yahoo", 60'000)}), 0);
  EXPECT_TRUE(t.unavailable(0, gmail, 10));
  EXPECT_TRUE(t.unavailable(0, yahoo, 10));
  ASSERT_EQ(t.reported(0).size(), 2u);
  // Yahoo is missing from the next one: not shaped any more.
  t.report(0, sites({suspended("gmail", 60'000)}), 20);
  EXPECT_TRUE(t.unavailable(0, gmail, 30));
  EXPECT_FALSE(t.unavailable(0, yahoo, 30));
  ASSERT_EQ(t.reported(0).size(), 1u);
  EXPECT_EQ(t.reported(0)[0].received_ms, 20u);
  // The empty frame after the last shaped site.
  t.report(0, sites({}), 40);
  EXPECT_FALSE(t.unavailable(0, gmail, 50));
  EXPECT_TRUE(t.reported(0).empty());
  // A site named twice: the first entry stands.
  t.report(0, sites({suspended("gmail", 100), throttled("gmail", 1000)}), 60);
  ASSERT_EQ(t.reported(0).size(), 1u);
  EXPECT_TRUE(t.unavailable(0, gmail, 100));
  EXPECT_EQ(t.throttleWaitMs(0, gmail), 0);
}

TEST(SiteTable, ALinkThatWentDownForgetsItsReport) {
  SiteTable t(2);
  uint32_t gmail = t.intern("gmail");
  t.report(0, sites({suspended("gmail", 60'000)}), 0);
  t.report(1, sites({suspended("gmail", 60'000)}), 0);
  t.forget(0);
  EXPECT_FALSE(t.unavailable(0, gmail, 10));
  EXPECT_TRUE(t.reported(0).empty());
  EXPECT_TRUE(t.unavailable(1, gmail, 10));
}

// A REJECT kSiteUnavailable comes before the report that says why: the gateway counts as
// suspended there for a short hold, or until its next report.
TEST(SiteTable, ARefusalHoldsTheSiteUntilTheNextReport) {
  SiteTable t(2);
  uint32_t site = t.intern("gmail");
  t.refused(0, "gmail", 1000);
  EXPECT_TRUE(t.unavailable(0, site, 1000));
  EXPECT_TRUE(t.unavailable(0, site, 1000 + SiteTable::kRefusedHoldMs - 1));
  EXPECT_FALSE(t.unavailable(0, site, 1000 + SiteTable::kRefusedHoldMs));
  EXPECT_FALSE(t.unavailable(1, site, 1000));
  ASSERT_EQ(t.reported(0).size(), 1u);
  t.refused(0, "gmail", 2000);
  t.report(0, sites({}), 2500);  // the report says it is not shaped (the cap's day turned)
  EXPECT_FALSE(t.unavailable(0, site, 2500));
  // A longer suspension already known is not shortened.
  t.report(1, sites({suspended("gmail", 60'000)}), 0);
  t.refused(1, "gmail", 1000);
  EXPECT_TRUE(t.unavailable(1, site, 30'000));
  t.refused(1, "", 1000);  // a gateway that does not know the site: nothing to hold
  EXPECT_EQ(t.reported(1).size(), 1u);
}

TEST(SiteTable, WarmUpLeftLessWhatWasSentSinceTheReport) {
  SiteTable t(2);
  uint32_t site = t.intern("gmail");
  t.report(0, sites({warmup("gmail", 3)}), 0);
  EXPECT_FALSE(t.unavailable(0, site, 0));
  t.sent(0, site);
  t.sent(0, site);
  EXPECT_FALSE(t.unavailable(0, site, 0));
  t.sent(0, site);
  EXPECT_EQ(t.sentSinceReport(0, site), 3u);
  EXPECT_TRUE(t.unavailable(0, site, 0));  // the cap's last message is out
  // Answers do not give warm-up back: the cap counts messages started today.
  t.done(0, site, 3);
  EXPECT_TRUE(t.unavailable(0, site, 0));
  // The next report counts what the gateway took; sent since starts again.
  t.report(0, sites({warmup("gmail", 1)}), 1000);
  EXPECT_EQ(t.sentSinceReport(0, site), 0u);
  EXPECT_FALSE(t.unavailable(0, site, 1000));
  t.report(0, sites({warmup("gmail", 0)}), 2000);
  EXPECT_TRUE(t.unavailable(0, site, 2000));
  // No cap at all.
  t.report(1, sites({warmup("gmail", SiteStatus::kNoWarmupCap)}), 0);
  for (int i = 0; i < 10; ++i) t.sent(1, site);
  EXPECT_FALSE(t.unavailable(1, site, 0));
}

TEST(SiteTable, AThrottledSitesWaitGrowsWithWhatIsInFlightThere) {
  SiteTable t(2);
  uint32_t site = t.intern("gmail");
  EXPECT_EQ(t.throttleWaitMs(0, site), 0);  // nothing reported
  t.report(0, sites({throttled("gmail", 2000)}), 0);  // 2 per second
  EXPECT_DOUBLE_EQ(t.throttleWaitMs(0, site), 500);
  t.sent(0, site);
  t.sent(0, site);
  t.sent(0, site);
  EXPECT_EQ(t.inFlight(0, site), 3u);
  EXPECT_DOUBLE_EQ(t.throttleWaitMs(0, site), 2000);
  t.done(0, site);
  EXPECT_DOUBLE_EQ(t.throttleWaitMs(0, site), 1500);
  // A throttled site is not unavailable: it costs time.
  EXPECT_FALSE(t.unavailable(0, site, 0));
  // The other gateway is not throttled there.
  t.sent(1, site);
  EXPECT_EQ(t.throttleWaitMs(1, site), 0);
  // More answers than were counted never wrap.
  t.done(0, site, 10);
  EXPECT_EQ(t.inFlight(0, site), 0u);
}

TEST(SiteTable, InFlightMovesToTheSiteADomainLearns) {
  SiteTable t(1);
  uint32_t a = t.intern("a");
  uint32_t b = t.intern("b");
  t.moveInFlight(0, SiteTable::kUnknown, static_cast<int>(a), 4);
  EXPECT_EQ(t.inFlight(0, a), 4u);
  t.moveInFlight(0, static_cast<int>(a), static_cast<int>(b), 3);
  EXPECT_EQ(t.inFlight(0, a), 1u);
  EXPECT_EQ(t.inFlight(0, b), 3u);
  // Moving in-flight is no sending: warm-up is not spent by it.
  EXPECT_EQ(t.sentSinceReport(0, b), 0u);
}

}  // namespace
}  // namespace lbmail
