// C3's rate control toward one gateway (Suresh et al., NSDI 2015, §4.2; the authors' Cassandra
// implementation, cassandra-c3 RateController, and their simulator absim): a token bucket
// lets srate messages go in each interval δ; rrate is the EWMA of the answers counted per
// interval. On each answer, srate above rrate, with no increase for the hysteresis time, is
// cut by β; srate below rrate grows along the cubic R = γ(ΔT − ∛(β·R0/γ))³ + R0 (ΔT since
// the last decrease, R0 the rate then; before any decrease, as in cassandra-c3 whose first
// decrease time is the epoch, the target is unbounded), each step at most s_max. The cubic
// climbs fast far below R0, flattens near it and probes beyond it, as TCP CUBIC does.
#pragma once

#include <cstdint>

namespace lbmail {

class CubicRateLimiter {
 public:
  // cassandra-c3's constants (c3_rate_interval_ms 20, CUBIC_BETA 0.2, CUBIC_C 0.000004 per
  // ms³, CUBIC_SMAX 10, CUBIC_HYSTERISIS_FACTOR 4, c3_rate_limiter_max_tokens 200, a first
  // rate of 1 per interval against a first receive rate of 100, so that the first answers
  // raise srate by s_max each, and a floor of 0.1). absim has the same β, γ and s_max, a
  // hysteresis of 2 intervals and 10 tokens, and a first receive rate of 0: in a world that
  // starts empty its first decreases compound down to the floor before anything is measured.
  static constexpr double kIntervalMs = 20;
  static constexpr double kBeta = 0.2;
  static constexpr double kGamma = 0.000004;
  static constexpr double kMaxStep = 10;
  static constexpr double kHysteresisIntervals = 4;
  static constexpr double kInitialRate = 1;
  static constexpr double kInitialReceiveRate = 100;
  static constexpr double kMaxTokens = 200;
  static constexpr double kMinRate = 0.1;
  // absim's ReceiveRate: weight 0.1 on each interval's count (cassandra-c3's tracker weighs
  // k/20 after k intervals, which goes past 1 after a long pause).
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
  double rrate_ = kInitialReceiveRate;
  uint64_t counted_ = 0;
  uint64_t interval_start_ms_ = 0;
  bool decreased_ = false;
  uint64_t last_decrease_ms_ = 0;
  uint64_t last_increase_ms_ = 0;
  double rate_at_decrease_ = 0;
};

}  // namespace lbmail
