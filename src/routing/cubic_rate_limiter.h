// C3's rate control toward one gateway (Suresh et al., NSDI 2015, §4.2; the authors' simulator
// absim, client.py RateLimiter/ReceiveRate/updateRates): a token bucket lets at most srate
// messages go in each interval δ; the receive rate rrate is the EWMA of the answers counted
// per interval. On each answer, srate below rrate grows along the cubic
// R = γ(ΔT − ∛(β·R0/γ))³ + R0 (ΔT since the last decrease, R0 the rate then; each step at
// most s_max); srate above rrate, and no increase for the hysteresis time, cuts srate by β.
// The cubic grows fast far below R0, flattens near it and probes beyond it, as TCP CUBIC
// does for a window.
#pragma once

#include <cstdint>

namespace lbmail {

class CubicRateLimiter {
 public:
  // δ = 20 ms as in the paper's evaluation (absim's command line default is 10).
  static constexpr double kIntervalMs = 20;
  // absim's defaults: cubicBeta 0.2, cubicC (γ) 0.000004 per ms³, cubicSmax 10,
  // hysterisisFactor 2 (intervals), and 10 tokens both as the first rate and the bucket.
  static constexpr double kBeta = 0.2;
  static constexpr double kGamma = 0.000004;
  static constexpr double kMaxStep = 10;
  static constexpr double kHysteresisIntervals = 2;
  static constexpr double kInitialRate = 10;
  static constexpr double kMaxTokens = 10;
  static constexpr double kMinRate = 0.01;
  // absim's ReceiveRate: weight 0.1 on each interval's count.
  static constexpr double kReceiveWeight = 0.1;

  // Whether a message may go now; if so it takes the token (the caller sends it).
  bool tryAcquire(uint64_t now_ms);
  bool hasToken(uint64_t now_ms);
  // How long until the next token, ms (0 when one is there).
  double msUntilToken(uint64_t now_ms);
  // An answer came back: count it and adapt srate.
  void answered(uint64_t now_ms);

  double sendRate() const { return rate_; }     // tokens per interval
  double receiveRate() const { return rrate_; }  // answers per interval (EWMA)

 private:
  void start(uint64_t now_ms);
  void refill(uint64_t now_ms);
  void rollIntervals(uint64_t now_ms);
  void adapt(uint64_t now_ms);

  bool started_ = false;
  double rate_ = kInitialRate;
  double tokens_ = kMaxTokens;
  uint64_t refilled_ms_ = 0;
  double rrate_ = 0;
  uint64_t counted_ = 0;
  uint64_t interval_start_ms_ = 0;
  uint64_t last_decrease_ms_ = 0;
  uint64_t last_increase_ms_ = 0;
  double rate_at_decrease_ = kInitialRate;
};

}  // namespace lbmail
