// Tests for src/routing/cubic_rate_limiter.cc on a simulated clock: the token bucket, the
// multiplicative decrease after the hysteresis time, the cubic recovery toward the rate at
// the decrease (flat near it, growing beyond it) and the s_max cap on each step.
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

TEST(CubicRateLimiter, TheBucketHoldsTenTokensAndRefillsAtTheRate) {
  Limiter l;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.tryAcquire(1000)) << i;
  EXPECT_FALSE(l.tryAcquire(1000));
  // 10 tokens per 20 ms: one every 2 ms.
  EXPECT_DOUBLE_EQ(l.msUntilToken(1000), 2);
  EXPECT_FALSE(l.tryAcquire(1001));
  EXPECT_TRUE(l.tryAcquire(1002));
  // A long pause refills no more than the bucket holds.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.tryAcquire(9000)) << i;
  EXPECT_FALSE(l.tryAcquire(9000));
}

TEST(CubicRateLimiter, NoChangeBeforeAnythingIsMeasured) {
  Limiter l;
  answers(l, 0, 5);  // the first interval is still open: rrate is 0
  EXPECT_EQ(l.receiveRate(), 0);
  EXPECT_DOUBLE_EQ(l.sendRate(), Limiter::kInitialRate);
}

// One answer at 0, 300 at 40 (counted in the interval that closes at 60), one at 41: rrate is
// tiny at 41 and the hysteresis (40 ms since the start) has passed, so the rate is cut.
Limiter cutAt41() {
  Limiter l;
  answers(l, 0, 1);
  answers(l, 40, 300);
  EXPECT_DOUBLE_EQ(l.sendRate(), Limiter::kInitialRate) << "not before the hysteresis time";
  answers(l, 41, 1);
  return l;
}

TEST(CubicRateLimiter, SendingAboveWhatComesBackCutsTheRateByBeta) {
  Limiter l = cutAt41();
  EXPECT_DOUBLE_EQ(l.sendRate(), Limiter::kBeta * Limiter::kInitialRate);
}

TEST(CubicRateLimiter, RecoversAlongTheCubicFlatNearTheOldRateAndBeyondIt) {
  Limiter l = cutAt41();
  // K = ∛(β·R0/γ) ≈ 79.4 ms after the cut the cubic is back at R0 = 10.
  double k = std::cbrt(Limiter::kBeta * Limiter::kInitialRate / Limiter::kGamma);
  auto at = [&](double since_cut) { return static_cast<uint64_t>(41 + since_cut); };
  pump(l, 60, at(k - 40), 15);
  double concave = l.sendRate();
  EXPECT_GT(concave, Limiter::kBeta * Limiter::kInitialRate) << "grows at once toward the old rate";
  EXPECT_LT(concave, Limiter::kInitialRate);
  pump(l, at(k - 40), at(k - 20), 15);
  double before = l.sendRate();
  pump(l, at(k - 20), at(k + 20), 15);
  double after = l.sendRate();
  EXPECT_NEAR(after, Limiter::kInitialRate, 0.1) << "back at the old rate near K";
  EXPECT_LT(after - before, 0.2) << "flat around the old rate";
  pump(l, at(k + 20), at(k + 200), 15);
  double probing = l.sendRate();
  pump(l, at(k + 200), at(k + 240), 15);
  EXPECT_GT(l.sendRate() - probing, 10) << "past K it probes beyond the old rate, faster and faster";
}

TEST(CubicRateLimiter, EachIncreaseIsAtMostSMax) {
  Limiter l;
  answers(l, 0, 1);
  pump(l, 1, 400, 15);  // rrate near 300 per interval, the rate follows the cubic from 0
  double before = l.sendRate();
  ASSERT_GT(before, 100);
  ASSERT_LT(before, l.receiveRate());
  // 20 ms later the cubic is ~26 higher: one answer adds only s_max.
  answers(l, 419, 1);
  EXPECT_DOUBLE_EQ(l.sendRate() - before, Limiter::kMaxStep);
}

TEST(CubicRateLimiter, TheClockStartsAtTheFirstEvent) {
  // An epoch-based clock: the first events behave as they do from 0.
  Limiter a;
  Limiter b;
  uint64_t epoch = 1'700'000'000'000;
  answers(a, 0, 1);
  answers(b, epoch, 1);
  answers(a, 40, 300);
  answers(b, epoch + 40, 300);
  answers(a, 41, 1);
  answers(b, epoch + 41, 1);
  EXPECT_DOUBLE_EQ(a.sendRate(), b.sendRate());
  EXPECT_DOUBLE_EQ(a.receiveRate(), b.receiveRate());
}

}  // namespace
}  // namespace lbmail
