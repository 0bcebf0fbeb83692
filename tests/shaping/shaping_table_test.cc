// Tests for ShapingTable on an injected clock: AIMD after throttles, suspension after blocks,
// warm-up caps per UTC day, disabled shaping.
#include "lbmail/shaping/shaping_table.h"

#include <gtest/gtest.h>

namespace lbmail::shaping {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kDayMs = 86'400'000;
const std::string kSource = "203.0.113.7";

int64_t daysSinceEpoch(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days(std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m),
                                                           std::chrono::day(d)))
      .time_since_epoch()
      .count();
}

// 2026-12-05 10:00:00 UTC.
const uint64_t kStart = static_cast<uint64_t>(daysSinceEpoch(2026, 12, 5)) * kDayMs + 10 * 3'600'000;

class ShapingTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<ShapingTable> make(ShapingConfig c = {}) {
    return std::make_unique<ShapingTable>(std::move(c), [this] { return now_; });
  }
  // count messages admitted and started, evenly over span (the send rate a first cut starts from).
  void send(ShapingTable& t, const std::string& site, int count, uint64_t span_ms) {
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(t.admit(kSource, site).verdict, ShapingTable::Verdict::kGo);
      t.started(kSource, site);
      now_ += span_ms / static_cast<uint64_t>(count);
    }
  }
  SiteReport reportOf(ShapingTable& t, const std::string& site) {
    for (SiteReport& r : t.report(true)) {
      if (r.source == kSource && r.site == site) return r;
    }
    ADD_FAILURE() << "no report for " << site;
    return {};
  }

  uint64_t now_ = kStart;
};

TEST_F(ShapingTableTest, UnknownSiteIsUnshaped) {
  auto t = make();
  EXPECT_EQ(t->rate(kSource, "gmail"), 0);
  EXPECT_EQ(t->connections(kSource, "gmail", 20), 20u);
  EXPECT_FALSE(t->suspended(kSource, "gmail"));
  EXPECT_TRUE(t->report().empty());
  EXPECT_TRUE(t->report(true).empty());
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kTransient, "451 4.3.0 try later"));
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kMailbox, "550 5.1.1 no such user"));
  EXPECT_EQ(t->rate(kSource, "gmail"), 0);
  EXPECT_TRUE(t->report().empty());
}

TEST_F(ShapingTableTest, ThrottleCutsTheMeasuredRateOncePerSpacing) {
  auto t = make();
  send(*t, "gmail", 100, 5000);  // 20 messages per second
  EXPECT_TRUE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 20 * 0.85);
  EXPECT_EQ(t->connections(kSource, "gmail", 20), 17u);
  // More 421s from the same burst: one signal.
  now_ += 1999;
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 20 * 0.85);
  now_ += 1;
  // The next cut starts from the throttled rate, not the measured one; not news to the initiators.
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 20 * 0.85 * 0.85);
  EXPECT_EQ(t->connections(kSource, "gmail", 20), 14u);  // floor(20 * 0.7225)
  EXPECT_EQ(t->connections(kSource, "gmail", 1), 1u);
  SiteReport r = reportOf(*t, "gmail");
  EXPECT_EQ(r.throttles, 4u);
  EXPECT_DOUBLE_EQ(r.connection_share, 0.85 * 0.85);
  EXPECT_FALSE(r.suspended);
  EXPECT_TRUE(r.shaped());
  // Another site of the same source, and the same site from another source, are untouched.
  EXPECT_EQ(t->rate(kSource, "yahoo"), 0);
  EXPECT_EQ(t->rate("203.0.113.8", "gmail"), 0);
}

TEST_F(ShapingTableTest, RateFloorsAtMinRateAndConnectionsAtOne) {
  auto t = make();
  send(*t, "gmail", 10, 5000);
  for (int i = 0; i < 60; ++i) {
    t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.0 try again later");
    now_ += 2000;
  }
  now_ -= 2000;
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 0.1);
  EXPECT_EQ(t->connections(kSource, "gmail", 50), 1u);
  EXPECT_EQ(reportOf(*t, "gmail").throttles, 60u);
}

TEST_F(ShapingTableTest, FirstThrottleWithoutTrafficStartsFromMinRate) {
  ShapingConfig c;
  c.aimd.min_rate = 0.5;
  auto t = make(c);
  EXPECT_TRUE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 too fast"));
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 0.5);
}

TEST_F(ShapingTableTest, RecoversAdditivelyAfterQuietThenEndsUnthrottled) {
  auto t = make();
  send(*t, "gmail", 100, 5000);  // 20 per second
  t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate");
  uint64_t cut = now_;
  now_ = cut + 9999;  // quiet: 10 s
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 17);
  now_ = cut + 10'000;  // each step adds 0.02 x 20
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 17.4);
  now_ = cut + 11'500;
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), 17.8);
  EXPECT_DOUBLE_EQ(reportOf(*t, "gmail").connection_share, 0.85 + 2 * 0.02);
  now_ = cut + 16'999;  // 7 steps: 19.8
  EXPECT_NEAR(t->rate(kSource, "gmail"), 19.8, 1e-9);
  EXPECT_EQ(t->connections(kSource, "gmail", 10), 9u);  // share 0.99
  now_ = cut + 17'000;  // 8 steps: back to 20, the rate before the first cut
  EXPECT_EQ(t->rate(kSource, "gmail"), 0);
  EXPECT_EQ(t->connections(kSource, "gmail", 100), 100u);
  EXPECT_TRUE(t->report().empty());
  // A new throttle is a first one again, measured afresh.
  EXPECT_TRUE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_GT(t->rate(kSource, "gmail"), 0);
}

TEST_F(ShapingTableTest, ThrottleDuringRecoveryCutsTheRecoveredRate) {
  auto t = make();
  send(*t, "gmail", 100, 5000);
  t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate");
  now_ += 12'000;  // 3 steps: 17 + 1.2
  ASSERT_NEAR(t->rate(kSource, "gmail"), 18.2, 1e-9);
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_NEAR(t->rate(kSource, "gmail"), 18.2 * 0.85, 1e-9);
  // Recovery now adds shares of the rate this cut came from, towards the first peak (20).
  now_ += 10'000;
  EXPECT_NEAR(t->rate(kSource, "gmail"), 18.2 * 0.85 + 0.02 * 18.2, 1e-9);
}

TEST_F(ShapingTableTest, BlockSuspendsWithTheReplyUntilSuspendForEnds) {
  ShapingConfig c;
  c.suspend_for = 1h;
  auto t = make(c);
  const std::string reply = "554 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org";
  EXPECT_TRUE(t->onReply(kSource, "gmail", ReplyClass::kBlock, reply));
  EXPECT_TRUE(t->suspended(kSource, "gmail"));
  ShapingTable::Admission a = t->admit(kSource, "gmail");
  EXPECT_EQ(a.verdict, ShapingTable::Verdict::kSuspended);
  EXPECT_EQ(a.reason, "site gmail suspended for 203.0.113.7 until 2026-12-05 11:00:00 UTC: " + reply);
  // Other sites and other sources still go.
  EXPECT_EQ(t->admit(kSource, "yahoo").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(t->admit("203.0.113.8", "gmail").verdict, ShapingTable::Verdict::kGo);
  std::vector<SiteReport> shaped = t->report();
  ASSERT_EQ(shaped.size(), 1u);
  EXPECT_TRUE(shaped[0].suspended);
  EXPECT_EQ(shaped[0].suspended_until_ms, kStart + 3'600'000);
  EXPECT_EQ(shaped[0].reason, reply);
  EXPECT_EQ(shaped[0].blocks, 1u);
  now_ = kStart + 3'599'999;
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kSuspended);
  now_ = kStart + 3'600'000;
  EXPECT_FALSE(t->suspended(kSource, "gmail"));
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_TRUE(t->report().empty());
}

TEST_F(ShapingTableTest, ALaterBlockExtendsTheSuspension) {
  auto t = make();
  t->onReply(kSource, "gmail", ReplyClass::kBlock, "554 5.7.1 blocked");
  now_ += 1'800'000;
  t->onReply(kSource, "gmail", ReplyClass::kBlock, "550 5.7.1 still blocked");
  now_ = kStart + 3'600'000;
  ShapingTable::Admission a = t->admit(kSource, "gmail");
  EXPECT_EQ(a.verdict, ShapingTable::Verdict::kSuspended);
  EXPECT_NE(a.reason.find("still blocked"), std::string::npos) << a.reason;
  EXPECT_EQ(reportOf(*t, "gmail").blocks, 2u);
}

TEST_F(ShapingTableTest, ReasonKeepsPrintableAsciiOnly) {
  auto t = make();
  t->onReply(kSource, "gmail", ReplyClass::kBlock, std::string("554 bad\r\nX-Injected: \xff\x01") + std::string(2000, 'x'));
  std::string reason = t->report()[0].reason;
  EXPECT_EQ(reason.substr(0, 26), "554 bad??X-Injected: ??xxx");
  EXPECT_EQ(reason.size(), 512u);
}

TEST_F(ShapingTableTest, SuspendedSitesReportFirstThenThrottledByRateThenWarmup) {
  ShapingConfig c;
  c.warmup.push_back(WarmupPlan{"", "2026-12-05", {1000}, daysSinceEpoch(2026, 12, 5)});
  auto t = make(c);
  send(*t, "slow", 10, 5000);
  send(*t, "fast", 100, 5000);
  t->onReply(kSource, "fast", ReplyClass::kThrottle, "421");
  t->onReply(kSource, "slow", ReplyClass::kThrottle, "421");
  t->onReply(kSource, "blocked", ReplyClass::kBlock, "554 5.7.1 blocked");
  t->admit(kSource, "capped");
  std::vector<SiteReport> r = t->report();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].site, "blocked");
  EXPECT_EQ(r[1].site, "slow");
  EXPECT_EQ(r[2].site, "fast");
  EXPECT_EQ(r[3].site, "capped");
  EXPECT_EQ(r[3].warmup_cap, 1000u);
  EXPECT_EQ(r[3].warmup_reserved, 1u);
}

ShapingConfig warmupConfig(std::vector<uint64_t> caps, const std::string& source = "") {
  ShapingConfig c;
  c.warmup.push_back(WarmupPlan{source, "2026-12-05", std::move(caps), daysSinceEpoch(2026, 12, 5)});
  return c;
}

TEST_F(ShapingTableTest, WarmupCapCountsReservationsAndUsage) {
  auto t = make(warmupConfig({3, 5}));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  // Three admitted, none started yet: the cap is reached already.
  ShapingTable::Admission full = t->admit(kSource, "gmail");
  EXPECT_EQ(full.verdict, ShapingTable::Verdict::kWarmupFull);
  EXPECT_EQ(full.reason, "warm-up cap of 3 for gmail reached today");
  SiteReport r = reportOf(*t, "gmail");
  EXPECT_EQ(r.warmup_cap, 3u);
  EXPECT_EQ(r.warmup_reserved, 3u);
  EXPECT_EQ(r.warmup_used, 0u);
  // One leaves without a transaction: its unit is free again.
  t->released(kSource, "gmail");
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  for (int i = 0; i < 3; ++i) t->started(kSource, "gmail");
  r = reportOf(*t, "gmail");
  EXPECT_EQ(r.warmup_used, 3u);
  EXPECT_EQ(r.warmup_reserved, 0u);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  // The cap is per site.
  EXPECT_EQ(t->admit(kSource, "yahoo").verdict, ShapingTable::Verdict::kGo);
}

TEST_F(ShapingTableTest, WarmupNeverExceedsTheCapUnderAnyInterleaving) {
  auto t = make(warmupConfig({50}));
  uint64_t started = 0;
  uint64_t in_queue = 0;
  // A fixed pattern of admissions, starts and releases: started + queued never passes the cap.
  for (int i = 0; i < 1000; ++i) {
    if (t->admit(kSource, "gmail").verdict == ShapingTable::Verdict::kGo) ++in_queue;
    if (i % 3 == 0 && in_queue > 0) {
      t->started(kSource, "gmail");
      --in_queue;
      ++started;
    }
    if (i % 7 == 0 && in_queue > 0) {
      t->released(kSource, "gmail");
      --in_queue;
    }
    ASSERT_LE(started + in_queue, 50u) << "at step " << i;
  }
  EXPECT_EQ(started + in_queue, 50u);
}

TEST_F(ShapingTableTest, WarmupFollowsTheScheduleByUtcDay) {
  auto t = make(warmupConfig({2, 4}));
  send(*t, "gmail", 2, 1000);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  // 2026-12-06 00:00:00 UTC: day 1, usage starts again from 0.
  now_ = static_cast<uint64_t>(daysSinceEpoch(2026, 12, 6)) * kDayMs;
  EXPECT_EQ(reportOf(*t, "gmail").warmup_used, 0u);
  send(*t, "gmail", 4, 1000);
  ShapingTable::Admission full = t->admit(kSource, "gmail");
  EXPECT_EQ(full.verdict, ShapingTable::Verdict::kWarmupFull);
  EXPECT_EQ(full.reason, "warm-up cap of 4 for gmail reached today");
  // Past the schedule: no cap, and the site is no longer shaped.
  now_ = static_cast<uint64_t>(daysSinceEpoch(2026, 12, 7)) * kDayMs;
  send(*t, "gmail", 100, 1000);
  SiteReport r = reportOf(*t, "gmail");
  EXPECT_EQ(r.warmup_cap, kNoCap);
  EXPECT_EQ(r.warmup_used, 100u);
  EXPECT_FALSE(r.shaped());
}

TEST_F(ShapingTableTest, WarmupBeforeItsStartUsesTheFirstCap) {
  auto t = make(warmupConfig({2, 4}));
  now_ = kStart - 3 * kDayMs;
  send(*t, "gmail", 2, 1000);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  EXPECT_EQ(reportOf(*t, "gmail").warmup_cap, 2u);
}

TEST_F(ShapingTableTest, ReservationsFromYesterdayCountToday) {
  auto t = make(warmupConfig({2, 2}));
  ASSERT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  ASSERT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  now_ = static_cast<uint64_t>(daysSinceEpoch(2026, 12, 6)) * kDayMs;
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  t->started(kSource, "gmail");
  t->started(kSource, "gmail");
  EXPECT_EQ(reportOf(*t, "gmail").warmup_used, 2u);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
}

TEST_F(ShapingTableTest, APlanForOneSourceLeavesTheOthersAlone) {
  ShapingConfig c = warmupConfig({1}, kSource);
  auto t = make(c);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(t->admit("203.0.113.8", "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(reportOf(*t, "gmail").warmup_cap, 1u);
  for (const SiteReport& r : t->report(true)) {
    if (r.source == "203.0.113.8") {
      EXPECT_EQ(r.warmup_cap, kNoCap);
    }
  }
}

TEST_F(ShapingTableTest, ASourcesOwnPlanWinsOverTheGatewaysPlan) {
  ShapingConfig c = warmupConfig({5});
  c.warmup.push_back(WarmupPlan{kSource, "2026-12-05", {1}, daysSinceEpoch(2026, 12, 5)});
  auto t = make(c);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t->admit("203.0.113.8", "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(t->admit("203.0.113.8", "gmail").verdict, ShapingTable::Verdict::kWarmupFull);
}

TEST_F(ShapingTableTest, SuspensionComesBeforeTheWarmupCap) {
  auto t = make(warmupConfig({1}));
  t->admit(kSource, "gmail");
  t->onReply(kSource, "gmail", ReplyClass::kBlock, "554 5.7.1 blocked");
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kSuspended);
}

TEST_F(ShapingTableTest, DisabledShapingAdmitsEverythingAndIgnoresReplies) {
  ShapingConfig c;
  c.enabled = false;
  c.warmup.push_back(WarmupPlan{"", "2026-12-05", {1}, daysSinceEpoch(2026, 12, 5)});
  auto t = make(c);
  send(*t, "gmail", 20, 1000);
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kBlock, "554 5.7.1 blocked"));
  EXPECT_FALSE(t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate"));
  EXPECT_EQ(t->admit(kSource, "gmail").verdict, ShapingTable::Verdict::kGo);
  EXPECT_FALSE(t->suspended(kSource, "gmail"));
  EXPECT_EQ(t->rate(kSource, "gmail"), 0);
  EXPECT_EQ(t->connections(kSource, "gmail", 20), 20u);
  EXPECT_TRUE(t->report().empty());
}

}  // namespace
}  // namespace lbmail::shaping
