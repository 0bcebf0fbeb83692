// Messages per second to each recipient domain, across all gateways: a token bucket per
// domain (by the delivery-time table's dense domain id), holding at most one second's worth so
// that a pause is not followed by a burst the receiver would throttle.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "initiator_config.h"

namespace lbmail {

class DomainRateLimiter {
 public:
  explicit DomainRateLimiter(const RateLimits& limits);

  // True, taking a token, when a message to the domain may go at now_ms.
  bool tryTake(uint32_t domain_id, std::string_view domain, uint64_t now_ms);
  bool limited() const { return limits_.per_domain > 0 || !limits_.domains.empty(); }

 private:
  struct Bucket {
    double rate = 0;  // per second; 0: unlimited
    double tokens = 0;
    uint64_t refilled_ms = 0;
    bool known = false;
  };

  RateLimits limits_;
  std::unordered_map<std::string, double> by_domain_;
  std::vector<Bucket> buckets_;  // by domain id
};

}  // namespace lbmail
