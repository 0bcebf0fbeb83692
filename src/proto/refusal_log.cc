// At most one refusal line per interval per source address, in bounded memory.
#include "lbmail/proto/refusal_log.h"

#include <cassert>
#include <chrono>

namespace lbmail::proto {

RefusalLog::RefusalLog(Duration interval, size_t max_addresses)
    : interval_ms_(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(interval).count())),
      max_addresses_(max_addresses) {
  assert(max_addresses_ > 0);
}

bool RefusalLog::admit(std::string_view host, uint64_t now_ms, uint64_t& unlogged) {
  auto found = by_host_.find(host);
  if (found == by_host_.end()) {
    Entry& e = remember(host);
    e.logged_at_ms = now_ms;
    unlogged = 0;
    return true;
  }
  touch(found->second);
  Entry& e = recent_.front();
  if (now_ms - e.logged_at_ms < interval_ms_) {
    ++e.held_back;
    return false;
  }
  unlogged = e.held_back;
  e.held_back = 0;
  e.logged_at_ms = now_ms;
  return true;
}

void RefusalLog::touch(std::list<Entry>::iterator it) { recent_.splice(recent_.begin(), recent_, it); }

RefusalLog::Entry& RefusalLog::remember(std::string_view host) {
  if (by_host_.size() >= max_addresses_) {
    by_host_.erase(recent_.back().host);
    recent_.pop_back();
  }
  recent_.push_front(Entry{std::string(host), 0, 0});
  by_host_.emplace(recent_.front().host, recent_.begin());
  return recent_.front();
}

}  // namespace lbmail::proto
