// C3's replica ranking (Suresh et al., "C3: Cutting Tail Latency in Cloud Data Stores via
// Adaptive Replica Selection", NSDI 2015, §4.1), per gateway: Ψ = R̄ − 1/μ̄ + q̂³/μ̄ with
// q̂ = 1 + os·n + q̄. R̄ is the EWMA of the response time the initiator sees, 1/μ̄ that of the
// service time the gateway reports, q̄ that of the queue the gateway reports in its answers,
// os this initiator's messages outstanding there and n the number of initiators. The cube
// penalises a longer queue far more than a slower service: a gateway's backlog grows the
// penalty before its latency shows it (absim's computeExpectedDelay).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lbmail {

class C3Ranker {
 public:
  // absim's updateEma: weight 0.9 on the new sample; the first sample is taken as is.
  static constexpr double kAlpha = 0.9;

  explicit C3Ranker(uint32_t initiators) : initiators_(initiators ? initiators : 1) {}

  void answered(size_t gateway, double response_ms, double service_ms, uint64_t queue);
  // Ψ for the gateway with `outstanding` messages in flight; 0 for a gateway that has not
  // answered yet, so it ranks first (absim: an empty metric map scores 0).
  double score(size_t gateway, uint64_t outstanding) const;
  bool known(size_t gateway) const { return gateway < gateways_.size() && gateways_[gateway].known; }

 private:
  struct Averages {
    bool known = false;
    double response_ms = 0;
    double service_ms = 0;
    double queue = 0;
  };
  uint32_t initiators_;
  std::vector<Averages> gateways_;
};

}  // namespace lbmail
