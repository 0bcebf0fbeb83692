// Feedback events to links: pending ones to the least-loaded open link, acks in send order.
#include "feedback_routing.h"

#include <algorithm>
#include <iterator>

namespace lbmail {

size_t FeedbackRouting::inFlight() const {
  size_t n = 0;
  for (const auto& [link, held] : links_) n += held.size();
  return n;
}

void FeedbackRouting::remove(Link link, const std::function<bool(uint64_t)>& still_wanted) {
  auto it = links_.find(link);
  if (it == links_.end()) return;
  for (uint64_t seq : it->second) {
    if (still_wanted(seq)) pending_.insert(seq);
  }
  links_.erase(it);
}

std::vector<uint64_t> FeedbackRouting::acknowledge(Link link, uint64_t sequence) {
  auto it = links_.find(link);
  if (it == links_.end()) return {};
  std::deque<uint64_t>& held = it->second;
  auto last = std::find(held.begin(), held.end(), sequence);
  if (last == held.end()) return {};
  std::vector<uint64_t> done(held.begin(), std::next(last));
  held.erase(held.begin(), std::next(last));
  return done;
}

std::optional<FeedbackRouting::Send> FeedbackRouting::next(const std::function<bool(Link)>& open,
                                                           const std::function<bool(uint64_t)>& still_wanted) {
  while (!pending_.empty()) {
    // A closing link is left out (its close hands its events back); the others go on.
    auto least = links_.end();
    for (auto it = links_.begin(); it != links_.end(); ++it) {
      if (!open(it->first)) continue;
      if (least == links_.end() || it->second.size() < least->second.size()) least = it;
    }
    if (least == links_.end() || least->second.size() >= window_) return std::nullopt;
    uint64_t seq = *pending_.begin();
    pending_.erase(pending_.begin());
    if (!still_wanted(seq)) continue;
    least->second.push_back(seq);
    return Send{least->first, seq};
  }
  return std::nullopt;
}

}  // namespace lbmail
