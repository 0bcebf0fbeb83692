// Requests in flight.
#include "in_flight_requests.h"

namespace lbmail {

void InFlightRequests::add(uint64_t request_id, InFlightRequest&& f) {
  requests_.insert_or_assign(request_id, std::move(f));
  gauge_.set(static_cast<double>(requests_.size()));
}

InFlightRequest InFlightRequests::erase(std::unordered_map<uint64_t, InFlightRequest>::iterator it) {
  InFlightRequest f = std::move(it->second);
  requests_.erase(it);
  gauge_.set(static_cast<double>(requests_.size()));
  return f;
}

std::optional<InFlightRequest> InFlightRequests::take(size_t g, uint64_t request_id) {
  auto it = requests_.find(request_id);
  if (it == requests_.end() || it->second.gateway != g) return std::nullopt;
  return erase(it);
}

std::vector<InFlightRequest> InFlightRequests::takeSentBefore(uint64_t sent_before_ms) {
  std::vector<InFlightRequest> taken;
  for (auto it = requests_.begin(); it != requests_.end();) {
    auto next = std::next(it);
    if (it->second.sent_ms <= sent_before_ms) taken.push_back(erase(it));
    it = next;
  }
  return taken;
}

std::vector<InFlightRequest> InFlightRequests::takeOn(size_t g, std::span<const uint64_t> ids) {
  std::vector<InFlightRequest> taken;
  for (uint64_t id : ids) {
    if (auto f = take(g, id)) taken.push_back(std::move(*f));
  }
  return taken;
}

std::vector<uint64_t> InFlightRequests::idsOn(size_t g) const {
  std::vector<uint64_t> ids;
  for (const auto& [id, f] : requests_) {
    if (f.gateway == g) ids.push_back(id);
  }
  return ids;
}

}  // namespace lbmail
