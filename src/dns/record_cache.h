// Answers to (name, type) questions kept until their TTL runs out, bounded in entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "record_set.h"

namespace lbmail::dns {

class RecordCache {
 public:
  explicit RecordCache(size_t max_entries) : max_entries_(max_entries) {}

  // The entry for (name, type) if it has not expired at `now`; an expired one is dropped.
  const RecordSet* find(const std::string& name, uint16_t type, TimePoint now);
  // Keeps set until set.expires (one already expired is not kept). When full, entries that
  // expired go first, then the one that expires soonest.
  void store(const std::string& name, uint16_t type, RecordSet set, TimePoint now);
  size_t size() const { return entries_.size(); }
  void clear();

 private:
  // name + "/" + type: unique, since a type has no "/".
  static std::string key(const std::string& name, uint16_t type);
  void erase(const std::string& key);
  void evict(TimePoint now);

  size_t max_entries_;
  std::unordered_map<std::string, RecordSet> entries_;
  std::set<std::pair<TimePoint, std::string>> by_expiry_;
};

}  // namespace lbmail::dns
