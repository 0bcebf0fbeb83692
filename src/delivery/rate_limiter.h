// A token bucket: at most `rate` events a second on average, bursts up to `burst`. Time comes
// from the caller, so tests and the loop decide what "now" is.
#pragma once

#include <algorithm>
#include <cstdint>

namespace lbmail::delivery {

class RateLimiter {
 public:
  // rate 0 means unlimited.
  explicit RateLimiter(double rate = 0, double burst = 1) : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  bool unlimited() const { return rate_ <= 0; }
  double rate() const { return rate_; }

  // A new rate (an adaptive limit moved): the tokens held stay, within the new burst.
  void setRate(double rate, double burst) {
    rate_ = rate;
    burst_ = std::max(1.0, burst);
    tokens_ = std::min(tokens_, burst_);
  }

  // Takes one token when there is one at now_ns.
  bool tryTake(uint64_t now_ns) {
    if (unlimited()) return true;
    refill(now_ns);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // Nanoseconds until a token will be there (0 when one is).
  uint64_t waitNanos(uint64_t now_ns) {
    if (unlimited()) return 0;
    refill(now_ns);
    if (tokens_ >= 1) return 0;
    return static_cast<uint64_t>((1 - tokens_) / rate_ * 1e9) + 1;
  }

 private:
  void refill(uint64_t now_ns) {
    if (last_ns_ != 0 && now_ns > last_ns_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_);
    }
    last_ns_ = now_ns;
  }

  double rate_;
  double burst_;
  double tokens_;
  uint64_t last_ns_ = 0;
};

}  // namespace lbmail::delivery
