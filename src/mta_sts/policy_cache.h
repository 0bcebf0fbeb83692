// The MTA-STS policies fetched so far, by domain, each until its max_age runs out (RFC 8461
// section 3.3), with a bound on how many are kept.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "lbmail/mta_sts/mta_sts_policy.h"

namespace lbmail::mta_sts {

struct CachedPolicy {
  std::string id;  // the _mta-sts record's id the policy was fetched for
  std::shared_ptr<const MtaStsPolicy> policy;
  std::chrono::steady_clock::time_point expires;
};

class PolicyCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit PolicyCache(size_t max_entries) : max_entries_(max_entries) {}

  // The domain's policy while it has not expired at now; an expired one is dropped.
  const CachedPolicy* find(const std::string& domain, TimePoint now);
  // Replaces the domain's entry. Nothing is kept that has already expired or when the cache
  // holds no entries at all; when full, the entry soonest to expire goes.
  void store(const std::string& domain, CachedPolicy entry, TimePoint now);
  size_t size() const { return entries_.size(); }

 private:
  void erase(const std::string& domain);

  size_t max_entries_;
  std::unordered_map<std::string, CachedPolicy> entries_;
  std::set<std::pair<TimePoint, std::string>> by_expiry_;
};

}  // namespace lbmail::mta_sts
