// Tests for src/initiator/delivery_time_table.cc: time-decayed averages, priors, fallbacks.
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

}  // namespace
}  // namespace lbmail
