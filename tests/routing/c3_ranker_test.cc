// Tests for src/routing/c3_ranker.cc: C3's score, its cubic queue penalty and its EWMAs.
#include "c3_ranker.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

TEST(C3Ranker, AGatewayNotHeardFromScoresZeroAndRanksFirst) {
  C3Ranker ranker(1);
  ranker.answered(0, 20, 5, 0);
  EXPECT_FALSE(ranker.known(1));
  EXPECT_EQ(ranker.score(1, 7), 0);
  EXPECT_GT(ranker.score(0, 0), 0);
}

TEST(C3Ranker, TheQueuePenaltyGrowsWithTheCube) {
  // Same response and service times; queues of 1 and 4 make q̂ = 2 and 5.
  C3Ranker ranker(1);
  ranker.answered(0, 20, 10, 1);
  ranker.answered(1, 20, 10, 4);
  double network = 20 - 10;  // R̄ − 1/μ̄
  double penalty_short = ranker.score(0, 0) - network;
  double penalty_long = ranker.score(1, 0) - network;
  EXPECT_DOUBLE_EQ(penalty_short, 8 * 10.0);
  EXPECT_DOUBLE_EQ(penalty_long / penalty_short, (5.0 * 5.0 * 5.0) / (2.0 * 2.0 * 2.0));
}

TEST(C3Ranker, AFasterGatewayWithALongerQueueLoses) {
  // B answers sooner (20 ms against 50 ms) but reports 3 waiting: q̂ = 4, 64 × 5 ms. With a
  // linear penalty (4 × 5 ms) B would win.
  C3Ranker ranker(1);
  ranker.answered(0, 50, 5, 0);
  ranker.answered(1, 20, 5, 3);
  EXPECT_DOUBLE_EQ(ranker.score(0, 0), 45 + 5);
  EXPECT_DOUBLE_EQ(ranker.score(1, 0), 15 + 64 * 5);
  EXPECT_LT(ranker.score(0, 0), ranker.score(1, 0));
}

TEST(C3Ranker, OutstandingCountsOncePerInitiator) {
  // q̂ = 1 + os·n + q̄: 2 outstanding with 3 initiators weigh as a queue of 6.
  C3Ranker three(3);
  three.answered(0, 10, 2, 0);
  EXPECT_DOUBLE_EQ(three.score(0, 2), 8 + 7.0 * 7.0 * 7.0 * 2);
  C3Ranker queued(1);
  queued.answered(0, 10, 2, 6);
  EXPECT_DOUBLE_EQ(three.score(0, 2), queued.score(0, 0));
}

TEST(C3Ranker, AveragesWeighTheNewSampleNineTenths) {
  C3Ranker ranker(1);
  ranker.answered(0, 100, 50, 10);  // the first sample is taken as is
  ranker.answered(0, 0, 0, 0);      // then 0.9 × new + 0.1 × old
  // R̄ = 10, 1/μ̄ = 5, q̄ = 1: Ψ = 10 − 5 + 2³ × 5.
  EXPECT_DOUBLE_EQ(ranker.score(0, 0), 10 - 5 + 8 * 5.0);
}

TEST(C3Ranker, NonsenseAnswersAreIgnored) {
  C3Ranker ranker(1);
  ranker.answered(0, -1, 5, 0);
  ranker.answered(0, std::numeric_limits<double>::quiet_NaN(), 5, 0);
  EXPECT_FALSE(ranker.known(0));
}

}  // namespace
}  // namespace lbmail
