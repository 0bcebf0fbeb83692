// Tests for src/routing/delivery_time_table.cc: time-decayed averages, priors, fallbacks.
#include "lbmail/routing/delivery_time_table.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lbmail {
namespace {

using namespace std::chrono_literals;

TEST(DeliveryTimeTable, DomainsGetDenseIds) {
  DeliveryTimeTable t(2, 10s);
  EXPECT_EQ(t.domainId("a.test"), 0u);
  EXPECT_EQ(t.domainId("b.test"), 1u);
  EXPECT_EQ(t.domainId("a.test"), 0u);
  EXPECT_EQ(t.domains(), 2u);
  EXPECT_EQ(t.domainName(1), "b.test");
}

TEST(DeliveryTimeTable, NothingKnownThenGatewayAverageThenPriorThenSamples) {
  DeliveryTimeTable t(2, 10s);
  uint32_t a = t.domainId("a.test"), b = t.domainId("b.test");
  EXPECT_TRUE(std::isnan(t.expected(0, a).ms));
  EXPECT_EQ(t.expected(0, a).source, DeliveryTimeTable::Source::kNone);
  t.recordDelivery(0, b, 400, 1000);
  EXPECT_EQ(t.expected(0, a).source, DeliveryTimeTable::Source::kGatewayAverage);
  EXPECT_DOUBLE_EQ(t.expected(0, a).ms, 400);
  t.recordRtt(0, a, 12);
  EXPECT_EQ(t.expected(0, a).source, DeliveryTimeTable::Source::kRttPrior);
  EXPECT_DOUBLE_EQ(t.expected(0, a).ms, 12);
  t.recordDelivery(0, a, 250, 2000);
  EXPECT_EQ(t.expected(0, a).source, DeliveryTimeTable::Source::kSamples);
  EXPECT_DOUBLE_EQ(t.expected(0, a).ms, 250);
  EXPECT_EQ(t.expected(0, a).updated_ms, 2000u);
  EXPECT_TRUE(std::isnan(t.expected(1, a).ms));  // other gateways learn nothing from gateway 0
}

TEST(DeliveryTimeTable, HalfLifeIsInTime) {
  DeliveryTimeTable t(1, 10s);
  uint32_t d = t.domainId("d.test");
  t.recordDelivery(0, d, 100, 0);
  // One half-life later, a new sample and the old mean weigh the same.
  t.recordDelivery(0, d, 300, 10000);
  EXPECT_NEAR(t.expected(0, d).ms, 200, 1e-9);
  // Many samples at one instant still move it, a little each.
  for (int i = 0; i < 64; ++i) t.recordDelivery(0, d, 1000, 10000);
  EXPECT_GT(t.expected(0, d).ms, 600);
  EXPECT_LT(t.expected(0, d).ms, 1000);
}

// Domains on one receiving site share what is measured there: a domain never sent through a
// gateway takes its site's estimate; a domain's own entry stands while it is about as fresh as
// its site's, and gives way once it is older by more than stale_after.
TEST(DeliveryTimeTable, ASiteServesItsDomains) {
  DeliveryTimeTable t(2, 2s, 5s);
  uint32_t big = t.domainId("big.test"), small = t.domainId("small.test"), alone = t.domainId("alone.test");
  t.setSite(big, 0);
  t.setSite(small, 0);
  t.recordDelivery(1, small, 80, 1000);  // small was measured once through gateway 1
  t.recordDelivery(0, big, 20, 1000);
  EXPECT_EQ(t.expected(0, small).source, DeliveryTimeTable::Source::kSiteSamples);
  EXPECT_DOUBLE_EQ(t.expected(0, small).ms, 20);
  EXPECT_EQ(t.expected(1, small).source, DeliveryTimeTable::Source::kSamples);
  EXPECT_TRUE(std::isnan(t.measured(0, alone).mean)) << "a domain with no site learns nothing from others";
  // The site is measured afresh through gateway 1 (big's traffic): small's own entry, from
  // 1000 ms, stands until it is more than 5 s older than the site's.
  t.recordDelivery(1, big, 15, 5000);
  EXPECT_DOUBLE_EQ(t.measured(1, small).mean, 80);
  t.recordDelivery(1, big, 15, 7000);
  EXPECT_LT(t.measured(1, small).mean, 80);
  EXPECT_EQ(t.measured(1, small).updated_ms, 7000u);
  EXPECT_EQ(t.expected(1, small).source, DeliveryTimeTable::Source::kSiteSamples);
  // small's own sample makes its entry fresh again.
  t.recordDelivery(1, small, 90, 7100);
  EXPECT_EQ(t.expected(1, small).source, DeliveryTimeTable::Source::kSamples);
}

}  // namespace
}  // namespace lbmail
