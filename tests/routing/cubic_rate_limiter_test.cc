// Tests for src/routing/cubic_rate_limiter.cc on a simulated clock: the token bucket, the
// first increases, the multiplicative decrease after the hysteresis time, the cubic recovery
// toward the rate at the decrease (concave below it, flat near it, convex beyond it) and the
// s_max cap on each step.
#include "cubic_rate_limiter.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lbmail {
namespace {

using Limiter = CubicRateLimiter;

void answers(Limiter& l, uint64_t at_ms, int count) {
  for (int i = 0; i < count; ++i) l.answered(at_ms);
}

// Answers every millisecond of [from, to).
void pump(Limiter& l, uint64_t from_ms, uint64_t to_ms, int per_ms) {
  for (uint64_t t = from_ms; t < to_ms; ++t) answers(l, t, per_ms);
}

TEST(CubicRateLimiter, TheBucketHoldsItsTokensAndRefillsAtTheRate) {
  Limiter l;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(l.tryAcquire(1000)) << i;
  EXPECT_FALSE(l.tryAcquire(1000));
  // The first rate is 1 token per 20 ms.
  EXPECT_DOUBLE_EQ(l.msUntilToken(1000), 20);
  EXPECT_FALSE(l.tryAcquire(1019));
  EXPECT_TRUE(l.tryAcquire(1020));
}

TEST(CubicRateLimiter, TheFirstAnswersRaiseTheRateBySMaxEach) {
  Limiter l;
  answers(l, 0, 3);
  EXPECT_DOUBLE_EQ(l.sendRate(), Limiter::kInitialRate + 3 * Limiter::kMaxStep);
}

// The rate at a drop and what follows: answers per_ms each millisecond, one by one, from
// `from` until the rate falls (at most 5 s).
struct Drop {
  double before = 0;
  double after = 0;
  double next = 0;  // after the next answer
  uint64_t at_ms = 0;
};

Drop firstDrop(Limiter& l, uint64_t from_ms, int per_ms) {
  for (uint64_t t = from_ms; t < from_ms + 5000; ++t) {
    for (int i = 0; i < per_ms; ++i) {
      double before = l.sendRate();
      l.answered(t);
      if (l.sendRate() < before) {
        Drop d{before, l.sendRate(), 0, t};
        l.answered(t);
        d.next = l.sendRate();
        return d;
      }
    }
  }
  ADD_FAILURE() << "the rate never fell";
  return {};
}

TEST(CubicRateLimiter, SendingAboveWhatComesBackCutsTheRateByBeta) {
  Limiter l;
  Drop d = firstDrop(l, 0, 15);
  EXPECT_DOUBLE_EQ(d.after, Limiter::kBeta * d.before);
  EXPECT_GT(d.at_ms, static_cast<uint64_t>(Limiter::kHysteresisIntervals * Limiter::kIntervalMs));
  // Far below the cubic's target (0.8 × the old rate) the next answer adds only s_max.
  EXPECT_DOUBLE_EQ(d.next - d.after, Limiter::kMaxStep);
}

TEST(CubicRateLimiter, RecoversAlongTheCubicFlatNearTheOldRateAndBeyondIt) {
  Limiter l;
  Drop d = firstDrop(l, 0, 15);
  double r0 = d.before;
  // K = ∛(β·R0/γ) after the cut the cubic is back at R0. Answers come faster now, so the
  // receive rate stays above the cubic and every answer may raise srate.
  double k = std::cbrt(Limiter::kBeta * r0 / Limiter::kGamma);
  auto at = [&](double since_cut) { return d.at_ms + static_cast<uint64_t>(std::llround(since_cut)); };
  double rate[5];
  uint64_t t = d.at_ms + 1;
  for (int i = 0; i < 5; ++i) {
    uint64_t until = at(k + 100.0 * (i - 2));
    pump(l, t, until + 1, 50);
    t = until + 1;
    rate[i] = l.sendRate();
    ASSERT_LT(rate[i], l.receiveRate()) << i;
  }
  EXPECT_NEAR(rate[2], r0, 1) << "back at the old rate at K";
  EXPECT_LT(rate[1], r0) << "below it before K";
  EXPECT_GT(rate[3], r0) << "beyond it after K";
  EXPECT_GT(rate[1] - rate[0], 4 * (rate[2] - rate[1])) << "concave: slowing as it nears the old rate";
  EXPECT_GT(rate[4] - rate[3], 4 * (rate[3] - rate[2])) << "convex: speeding up past it";
}

TEST(CubicRateLimiter, TheClockStartsAtTheFirstEvent) {
  // An epoch-based clock behaves as one that starts at 0.
  Limiter a;
  Limiter b;
  uint64_t epoch = 1'700'000'000'000;
  Drop da = firstDrop(a, 0, 15);
  Drop db = firstDrop(b, epoch, 15);
  EXPECT_EQ(db.at_ms - epoch, da.at_ms);
  EXPECT_DOUBLE_EQ(da.before, db.before);
  EXPECT_DOUBLE_EQ(a.receiveRate(), b.receiveRate());
}

}  // namespace
}  // namespace lbmail
