// Tests for src/routing/peak_ewma.cc on a simulated clock: the jump to a slower sample, the
// decay with τ, the blend of a faster one, and the cost with pending messages.
#include "peak_ewma.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lbmail {
namespace {

constexpr auto kTau = static_cast<uint64_t>(PeakEwma::kTauMs);

TEST(PeakEwma, ASlowerSampleReplacesTheValueAtOnce) {
  PeakEwma e;
  e.observe(10, 1000);
  e.observe(500, 1001);
  EXPECT_DOUBLE_EQ(e.value(1001), 500);
}

TEST(PeakEwma, TheValueDecaysWithTau) {
  PeakEwma e;
  e.observe(100, 1000);
  EXPECT_NEAR(e.value(1000 + kTau), 100 * std::exp(-1.0), 1e-9);
  EXPECT_NEAR(e.value(1000 + 3 * kTau), 100 * std::exp(-3.0), 1e-9);
}

TEST(PeakEwma, AFasterSampleIsBlendedByTheTimeSinceTheLast) {
  PeakEwma e;
  e.observe(100, 0);
  // After τ·ln 2 the history weighs one half.
  auto half = static_cast<uint64_t>(std::llround(PeakEwma::kTauMs * std::log(2.0)));
  e.observe(20, half);
  EXPECT_NEAR(e.value(half), 60, 0.01);
  // At the same instant a faster sample changes nothing (no time, no weight).
  e.observe(1, half);
  EXPECT_NEAR(e.value(half), 60, 0.01);
}

TEST(PeakEwma, CostIsTheValueTimesPendingPlusOne) {
  PeakEwma e;
  EXPECT_EQ(e.cost(0, 0), 0) << "no history, nothing pending: try it";
  EXPECT_EQ(e.cost(3, 0), PeakEwma::kPenalty + 3) << "no history, something pending: wait for its answer";
  e.observe(40, 0);
  EXPECT_DOUBLE_EQ(e.cost(0, 0), 40);
  EXPECT_DOUBLE_EQ(e.cost(4, 0), 200);
}

TEST(PeakEwma, ReadingTheCostStoresTheDecaySoALaterSampleCanBeAPeak) {
  PeakEwma read;
  PeakEwma unread;
  read.observe(100, 0);
  unread.observe(100, 0);
  auto quarter = static_cast<uint64_t>(std::llround(PeakEwma::kTauMs * std::log(4.0)));
  read.cost(0, quarter);  // 25 now
  read.observe(40, quarter);
  unread.observe(40, quarter);
  EXPECT_NEAR(read.value(quarter), 40, 0.01);
  EXPECT_NEAR(unread.value(quarter), 25 + 0.75 * 40, 0.01);
}

}  // namespace
}  // namespace lbmail
