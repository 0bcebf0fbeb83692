// Tests for the token bucket behind per-destination rate limits, with time given by the test.
#include "rate_limiter.h"

#include <gtest/gtest.h>

namespace lbmail::delivery {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

TEST(RateLimiter, UnlimitedAlwaysGives) {
  RateLimiter r;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(r.tryTake(1));
  EXPECT_EQ(r.waitNanos(1), 0u);
}

TEST(RateLimiter, AllowsTheRateAndTheBurstNoMore) {
  RateLimiter r(10, 5);  // 10 a second, bursts of 5
  uint64_t t = kSecond;
  int taken = 0;
  while (r.tryTake(t)) ++taken;
  EXPECT_EQ(taken, 5);
  // One token comes back every 100 ms.
  uint64_t wait = r.waitNanos(t);
  EXPECT_GT(wait, kSecond / 10 - kSecond / 1000);
  EXPECT_LE(wait, kSecond / 10 + 1);
  EXPECT_FALSE(r.tryTake(t + wait / 2));
  EXPECT_TRUE(r.tryTake(t + wait));
  // Taken steadily for 9.9 s after the bucket ran dry: about 99 tokens, the rate and no burst.
  taken = 0;
  for (uint64_t now = t + wait; now < t + wait + 99 * kSecond / 10; now += kSecond / 1000) taken += r.tryTake(now);
  EXPECT_GE(taken, 97);
  EXPECT_LE(taken, 100);
}

}  // namespace
}  // namespace lbmail::delivery
