// The gateway's latency EWMA for PROBE_REPLY.
#include "latency_estimate.h"

#include <algorithm>

namespace lbmail {

void LatencyEstimate::add(uint64_t total_us) {
  double x = static_cast<double>(total_us);
  // The first answer is the estimate: starting from 0 would report a fast gateway for a while.
  value_us_ = measured_ ? value_us_ + kWeight * (x - value_us_) : x;
  measured_ = true;
}

uint32_t LatencyEstimate::micros() const {
  return static_cast<uint32_t>(std::min(value_us_ + 0.5, static_cast<double>(UINT32_MAX)));
}

}  // namespace lbmail
