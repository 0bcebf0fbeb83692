// Tests for src/routing/prequal_pool.cc on a simulated clock: the hot-cold lexicographic
// choice, expiry after 1 s, the cap of 16 probes, the reuse budget and the RIF a use adds.
#include "prequal_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace lbmail {
namespace {

std::vector<GatewayLoad> available(size_t n) { return std::vector<GatewayLoad>(n, GatewayLoad{true, 100, 0, 0}); }

TEST(PrequalPool, AColdProbeWithLowLatencyBeatsAHotOneWithLower) {
  PrequalPool pool;
  pool.add(0, 10, 5, 0);  // the lowest latency, but far more in flight: hot
  pool.add(1, 1, 50, 0);
  pool.add(2, 2, 40, 0);
  pool.add(3, 1, 60, 0);
  // RIFs 1, 1, 2, 10: the 0.84 quantile is 2 + 0.52 × 8 = 6.16.
  EXPECT_NEAR(pool.hotThreshold(), 6.16, 1e-9);
  EXPECT_EQ(pool.choose(available(4), 1), 2);
}

TEST(PrequalPool, TheHotThresholdIsTheInterpolatedQuantileOfEveryPoolSize) {
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    PrequalPool pool;
    std::vector<uint64_t> rifs;
    size_t n = 1 + rng() % PrequalPool::kMaxProbes;
    for (size_t i = 0; i < n; ++i) {
      rifs.push_back(rng() % 6);
      pool.add(i, rifs.back(), 1, 0);
    }
    std::sort(rifs.begin(), rifs.end());
    double pos = PrequalPool::kHotQuantile * static_cast<double>(n - 1);
    auto lo = static_cast<size_t>(pos);
    size_t hi = std::min(lo + 1, n - 1);
    double want = static_cast<double>(rifs[lo]) +
                  (pos - static_cast<double>(lo)) * (static_cast<double>(rifs[hi]) - static_cast<double>(rifs[lo]));
    ASSERT_NEAR(pool.hotThreshold(), want, 1e-9) << n;
  }
}

TEST(PrequalPool, WhenEveryUsableProbeIsHotTheLowestRifWins) {
  PrequalPool pool;
  // Thirteen idle gateways that are not candidates (down) set the quantile low...
  for (size_t g = 0; g < 13; ++g) pool.add(g, 0, 1, 0);
  // ...and the three that are have RIFs 7, 6 and 5, all above it.
  pool.add(13, 7, 1, 0);
  pool.add(14, 6, 10, 0);
  pool.add(15, 5, 100, 0);
  std::vector<GatewayLoad> load = available(16);
  for (size_t g = 0; g < 13; ++g) load[g].up = false;
  EXPECT_LT(pool.hotThreshold(), 5);
  EXPECT_EQ(pool.choose(load, 1), 15);
}

TEST(PrequalPool, OnlyProbesOfCandidatesAreUsed) {
  PrequalPool pool;
  pool.add(0, 0, 1, 0);
  pool.add(1, 0, 2, 0);
  std::vector<GatewayLoad> load = available(2);
  load[0].credit = 0;
  EXPECT_EQ(pool.choose(load, 1), 1);
  load[1].up = false;
  EXPECT_EQ(pool.choose(load, 1), -1);
}

TEST(PrequalPool, ProbesExpireAfterOneSecond) {
  PrequalPool pool;
  pool.add(0, 0, 1, 5000);
  EXPECT_EQ(pool.choose(available(1), 6000), 0);
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.choose(available(1), 6001), -1);
  EXPECT_EQ(pool.size(), 0u);
}

TEST(PrequalPool, HoldsSixteenProbesAndEvictsTheOldest) {
  PrequalPool pool;
  pool.add(0, 0, 1, 0);  // the best, and the oldest
  for (size_t g = 1; g <= 16; ++g) pool.add(g, 0, 10.0 + static_cast<double>(g), static_cast<uint64_t>(g));
  EXPECT_EQ(pool.size(), PrequalPool::kMaxProbes);
  EXPECT_EQ(pool.choose(available(17), 20), 1);
}

TEST(PrequalPool, AProbeServesItsReuseBudgetThenLeaves) {
  PrequalPool pool;
  pool.add(0, 0, 1, 0);
  for (uint32_t i = 0; i < PrequalPool::kReuseBudget; ++i) EXPECT_EQ(pool.choose(available(1), 1), 0) << i;
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.choose(available(1), 1), -1);
}

TEST(PrequalPool, EachUseCountsInTheGatewaysRif) {
  PrequalPool pool;
  pool.add(0, 0, 10, 0);
  pool.add(1, 1, 20, 0);
  pool.add(2, 1, 30, 0);
  pool.add(3, 1, 40, 0);
  std::vector<GatewayLoad> load = available(4);
  EXPECT_EQ(pool.choose(load, 1), 0);  // RIFs 0 1 1 1: all cold, the fastest
  EXPECT_EQ(pool.choose(load, 1), 0);  // RIFs 1 1 1 1: still cold
  EXPECT_EQ(pool.choose(load, 1), 1);  // RIFs 2 1 1 1: gateway 0 is hot now
}

TEST(PrequalPool, ATwoProbeGatewayCountsEachUseInBoth) {
  PrequalPool pool;
  pool.add(0, 0, 10, 0);
  pool.add(0, 0, 11, 1);
  for (size_t g = 1; g <= 14; ++g) pool.add(g, 1, 20.0 + static_cast<double>(g), 1);
  std::vector<GatewayLoad> load = available(15);
  EXPECT_EQ(pool.choose(load, 2), 0);  // gateway 0's RIFs 0 0 → 1 1
  EXPECT_EQ(pool.choose(load, 2), 0);  // → 2 2: both above the pool's 0.84 quantile (1)
  // Counted in the used probe only, the other (RIF 0) would still look cold.
  EXPECT_EQ(pool.choose(load, 2), 1);
}

}  // namespace
}  // namespace lbmail
