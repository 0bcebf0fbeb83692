// One gateway's peak-sensitive EWMA of response time and the load cost it gives, as Finagle's
// PeakEwma load metric (finagle-core loadbalancer/PeakEwma.scala; Linkerd uses the same): a
// sample above the current value replaces it at once, a lower one is blended in with the
// weight e^(-Δt/τ) of the time since the last observation, and the value decays toward zero
// while nothing is observed, so a gateway that was slow once recovers only cautiously.
#pragma once

#include <cstdint>

namespace lbmail {

class PeakEwma {
 public:
  // Finagle's default decay time (the mean lifetime of the value).
  static constexpr double kTauMs = 10000;
  // Finagle's penalty for a node with requests pending and no latency history yet
  // (Long.MaxValue >> 16): such a node is not sent more until its first answer.
  static constexpr double kPenalty = 140737488355327.0;

  void observe(double response_ms, uint64_t now_ms);
  // The value decayed to now, for inspection (changes nothing).
  double value(uint64_t now_ms) const;
  // The load of sending one more message: value × (pending + 1); no history and something
  // pending: the penalty plus pending; no history and nothing pending: 0 (try it). Like
  // Finagle's get(), reading stores the decay (an observation of 0), so a later sample is
  // compared with the decayed value: after a quiet spell a slower answer is a new peak.
  double cost(uint64_t pending, uint64_t now_ms);

 private:

  double value_ = 0;
  uint64_t stamp_ms_ = 0;
};

}  // namespace lbmail
