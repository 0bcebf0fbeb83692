// The resolver's TTL cache with an index by expiry for eviction.
#include "record_cache.h"

namespace lbmail::dns {

std::string RecordCache::key(const std::string& name, uint16_t type) { return name + "/" + std::to_string(type); }

const RecordSet* RecordCache::find(const std::string& name, uint16_t type, TimePoint now) {
  std::string k = key(name, type);
  auto it = entries_.find(k);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires <= now) {
    erase(k);
    return nullptr;
  }
  return &it->second;
}

void RecordCache::store(const std::string& name, uint16_t type, RecordSet set, TimePoint now) {
  if (set.expires <= now || max_entries_ == 0) return;
  std::string k = key(name, type);
  erase(k);
  evict(now);
  by_expiry_.emplace(set.expires, k);
  entries_.emplace(std::move(k), std::move(set));
}

void RecordCache::clear() {
  entries_.clear();
  by_expiry_.clear();
}

void RecordCache::erase(const std::string& k) {
  auto it = entries_.find(k);
  if (it == entries_.end()) return;
  by_expiry_.erase({it->second.expires, k});
  entries_.erase(it);
}

void RecordCache::evict(TimePoint now) {
  while (!by_expiry_.empty() && (by_expiry_.begin()->first <= now || entries_.size() >= max_entries_)) {
    std::string k = by_expiry_.begin()->second;
    erase(k);
  }
}

}  // namespace lbmail::dns
