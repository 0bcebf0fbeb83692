// Rate limit for the gateway's refusal and eviction log lines: at most one line per interval
// per source address, so that a flood of connections cannot flood the log.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lbmail/core/units.h"

namespace lbmail::proto {

class RefusalLog {
 public:
  // max_addresses bounds the memory: beyond it, the address refused least recently is forgotten
  // (and the count of lines it held back with it).
  explicit RefusalLog(Duration interval = std::chrono::seconds(10), size_t max_addresses = 4096);

  // Whether a line about host (an address without its port: a peer that changes ports is still
  // one peer) may be written at now_ms. When it may, unlogged holds how many lines about host
  // were held back since the last one written; otherwise the line is counted as held back.
  bool admit(std::string_view host, uint64_t now_ms, uint64_t& unlogged);

  size_t addressCount() const { return by_host_.size(); }

 private:
  struct Entry {
    std::string host;
    uint64_t logged_at_ms = 0;
    uint64_t held_back = 0;
  };

  void touch(std::list<Entry>::iterator it);
  Entry& remember(std::string_view host);

  uint64_t interval_ms_;
  size_t max_addresses_;
  std::list<Entry> recent_;  // most recently refused first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> by_host_;  // views into recent_
};

}  // namespace lbmail::proto
