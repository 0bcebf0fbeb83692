// What a gateway says of its own latency when an initiator probes it (PROBE_REPLY, for the
// prequal policy): a moving average of the total time (SEND received to RESULT, queue wait
// included) of its recent answers, so that a request arriving now can expect about as much.
#pragma once

#include <cstdint>

namespace lbmail {

class LatencyEstimate {
 public:
  // The weight of the newest answer: the last few dozen answers count, so a change in the
  // receivers' latency shows within a fraction of a second of traffic.
  static constexpr double kWeight = 0.1;

  void add(uint64_t total_us);
  // 0 until the first answer; capped at the wire's u32.
  uint32_t micros() const;

 private:
  double value_us_ = 0;
  bool measured_ = false;
};

}  // namespace lbmail
