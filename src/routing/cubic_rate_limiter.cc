// C3's per-gateway cubic rate control (absim's RateLimiter, ReceiveRate and updateRates).
#include "cubic_rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace lbmail {

namespace {

// Time from then to now; 0 if the clock stood still or stepped back.
double sinceMs(uint64_t then_ms, uint64_t now_ms) { return now_ms > then_ms ? static_cast<double>(now_ms - then_ms) : 0; }

}  // namespace

// The bucket and the intervals start at the first event.
void CubicRateLimiter::start(uint64_t now_ms) {
  if (started_) return;
  started_ = true;
  refilled_ms_ = interval_start_ms_ = last_increase_ms_ = now_ms;
}

void CubicRateLimiter::refill(uint64_t now_ms) {
  start(now_ms);
  if (now_ms <= refilled_ms_) return;
  tokens_ = std::min(kMaxTokens, tokens_ + rate_ / kIntervalMs * sinceMs(refilled_ms_, now_ms));
  refilled_ms_ = now_ms;
}

bool CubicRateLimiter::hasToken(uint64_t now_ms) {
  refill(now_ms);
  return tokens_ >= 1;
}

double CubicRateLimiter::msUntilToken(uint64_t now_ms) {
  refill(now_ms);
  return tokens_ >= 1 ? 0 : (1 - tokens_) * kIntervalMs / rate_;
}

bool CubicRateLimiter::tryAcquire(uint64_t now_ms) {
  if (!hasToken(now_ms)) return false;
  tokens_ -= 1;
  return true;
}

// Each whole interval since the last one closes with rrate = 0.1·count + 0.9·rrate (the
// empty ones after it with a count of 0), as absim's ReceiveRate process does on its timer.
void CubicRateLimiter::rollIntervals(uint64_t now_ms) {
  start(now_ms);
  auto interval = static_cast<uint64_t>(kIntervalMs);
  if (now_ms < interval_start_ms_ + interval) return;
  uint64_t closed = (now_ms - interval_start_ms_) / interval;
  rrate_ = kReceiveWeight * static_cast<double>(counted_) + (1 - kReceiveWeight) * rrate_;
  if (closed > 1) rrate_ *= std::pow(1 - kReceiveWeight, static_cast<double>(closed - 1));
  counted_ = 0;
  interval_start_ms_ += closed * interval;
}

void CubicRateLimiter::answered(uint64_t now_ms) {
  rollIntervals(now_ms);
  ++counted_;
  adapt(now_ms);
}

void CubicRateLimiter::adapt(uint64_t now_ms) {
  if (rate_ > rrate_ && rrate_ > 0 && sinceMs(last_increase_ms_, now_ms) > kIntervalMs * kHysteresisIntervals) {
    // Above what comes back, and the last increase had time to show in rrate: back off. (With
    // nothing measured, rrate 0, there is no evidence either way: absim waits.)
    rate_at_decrease_ = rate_;
    rate_ = std::max(rate_ * kBeta, kMinRate);
    last_decrease_ms_ = now_ms;
    decreased_ = true;
  } else if (rate_ < rrate_) {
    // Below what comes back: grow along the cubic from the last decrease, at most s_max a step.
    last_increase_ms_ = now_ms;
    if (!decreased_) {
      rate_ += kMaxStep;
      return;
    }
    double k = std::cbrt(rate_at_decrease_ * kBeta / kGamma);
    double d = sinceMs(last_decrease_ms_, now_ms) - k;
    double target = kGamma * d * d * d + rate_at_decrease_;
    rate_ = target - rate_ > kMaxStep ? rate_ + kMaxStep : std::max(target, kMinRate);
  }
}

}  // namespace lbmail
