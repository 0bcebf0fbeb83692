// Token buckets per domain.
#include "domain_rate_limiter.h"

#include <algorithm>

namespace lbmail {

DomainRateLimiter::DomainRateLimiter(const RateLimits& limits) : limits_(limits) {
  for (const DomainRate& d : limits_.domains) by_domain_[d.domain] = d.per_second;
}

bool DomainRateLimiter::tryTake(uint32_t domain_id, std::string_view domain, uint64_t now_ms) {
  if (!limited()) return true;
  if (domain_id >= buckets_.size()) buckets_.resize(domain_id + 1);
  Bucket& b = buckets_[domain_id];
  if (!b.known) {
    auto it = by_domain_.find(std::string(domain));
    b.rate = it != by_domain_.end() ? it->second : limits_.per_domain;
    b.tokens = std::max(1.0, b.rate);
    b.refilled_ms = now_ms;
    b.known = true;
  }
  if (b.rate <= 0) return true;
  double burst = std::max(1.0, b.rate);
  b.tokens = std::min(burst, b.tokens + b.rate * static_cast<double>(now_ms - b.refilled_ms) / 1000.0);
  b.refilled_ms = now_ms;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace lbmail
