// The requests sent and not yet answered, by request id, each with its recipient, its gateway
// and when it went out; the in-flight gauge follows their number.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "lbmail/core/metric.h"
#include "pending_recipient.h"

namespace lbmail {

class InFlightRequests {
 public:
  explicit InFlightRequests(Gauge& gauge) : gauge_(gauge) {}

  void add(uint64_t request_id, InFlightRequest&& f);
  // The request if gateway g still has it: an answer from a link the request no longer counts
  // on (failed over, timed out) is late.
  std::optional<InFlightRequest> take(size_t g, uint64_t request_id);
  // Those sent at or before sent_before_ms.
  std::vector<InFlightRequest> takeSentBefore(uint64_t sent_before_ms);
  // Those of ids that gateway g still has.
  std::vector<InFlightRequest> takeOn(size_t g, std::span<const uint64_t> ids);
  std::vector<uint64_t> idsOn(size_t g) const;

  size_t size() const { return requests_.size(); }
  bool empty() const { return requests_.empty(); }

 private:
  InFlightRequest erase(std::unordered_map<uint64_t, InFlightRequest>::iterator it);

  std::unordered_map<uint64_t, InFlightRequest> requests_;
  Gauge& gauge_;
};

}  // namespace lbmail
