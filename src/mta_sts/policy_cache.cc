// The MTA-STS policy cache: a map by domain and an index by expiry for eviction.
#include "policy_cache.h"

namespace lbmail::mta_sts {

const CachedPolicy* PolicyCache::find(const std::string& domain, TimePoint now) {
  auto it = entries_.find(domain);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires <= now) {
    erase(domain);
    return nullptr;
  }
  return &it->second;
}

void PolicyCache::store(const std::string& domain, CachedPolicy entry, TimePoint now) {
  erase(domain);
  if (entry.expires <= now || max_entries_ == 0) return;
  while (entries_.size() >= max_entries_) {
    std::string soonest = by_expiry_.begin()->second;  // a copy: erase() frees the set's
    erase(soonest);
  }
  by_expiry_.emplace(entry.expires, domain);
  entries_.emplace(domain, std::move(entry));
}

void PolicyCache::erase(const std::string& domain) {
  auto it = entries_.find(domain);
  if (it == entries_.end()) return;
  by_expiry_.erase({it->second.expires, domain});
  entries_.erase(it);
}

}  // namespace lbmail::mta_sts
