// The model world's event queue: a binary heap of small fixed-size events on the simulated
// clock (µs), ordered by time and then by insertion, so that a run is reproducible by seed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lbmail {

enum class ModelEventType : uint8_t {
  kArrival,       // a message reaches the initiator
  kSendArrives,   // a SEND reaches its gateway
  kCapPass,       // the gateway's rate cap lets it through
  kSiteArrives,   // the transaction reaches the site's workers
  kTransactionDone,
  kResultArrives, // the RESULT (or REJECT) is back at the initiator
  kRetry,         // a deferred recipient is due again
  kProbeReply,
  kTick,
  kChange,        // the scenario's change
  kDrift,
  kFailover,      // the initiator notices the dead link
};

struct ModelEvent {
  int64_t at = 0;
  uint64_t seq = 0;
  uint32_t msg = 0;
  uint32_t gen = 0;
  uint32_t aux = 0;
  ModelEventType type = ModelEventType::kTick;
};

class ModelEventQueue {
 public:
  void reserve(size_t n) { heap_.reserve(n); }
  void push(int64_t at, ModelEventType type, uint32_t msg = 0, uint32_t gen = 0, uint32_t aux = 0) {
    heap_.push_back({at, seq_++, msg, gen, aux, type});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  bool empty() const { return heap_.empty(); }
  int64_t nextAt() const { return heap_.front().at; }
  ModelEvent pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    ModelEvent e = heap_.back();
    heap_.pop_back();
    return e;
  }

 private:
  static bool later(const ModelEvent& a, const ModelEvent& b) { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }
  std::vector<ModelEvent> heap_;
  uint64_t seq_ = 0;
};

}  // namespace lbmail
