// Feedback events over the links: each on one link until acknowledged or the link closes.
#include "feedback_relay.h"

namespace lbmail {

FeedbackRelay::FeedbackRelay(FeedbackSpool& spool, size_t window) : spool_(spool), window_(window) {
  for (const auto& [seq, e] : spool_.unacknowledged()) pending_.insert(seq);
}

size_t FeedbackRelay::inFlight() const {
  size_t n = 0;
  for (const auto& [link, held] : links_) n += held.size();
  return n;
}

void FeedbackRelay::linkUp(proto::LinkConnection& link) {
  // An older initiator would refuse the frame type: its events stay for one that reads them.
  if (!(link.peerCapabilities() & proto::kCapabilityFeedback)) return;
  links_[&link];
  pump();
}

void FeedbackRelay::linkClosed(proto::LinkConnection& link) {
  auto it = links_.find(&link);
  if (it == links_.end()) return;
  for (uint64_t seq : it->second) {
    if (spool_.unacknowledged().count(seq)) pending_.insert(seq);
  }
  links_.erase(it);
  pump();
}

void FeedbackRelay::acknowledged(proto::LinkConnection& link, uint64_t sequence, uint64_t now_ms) {
  auto it = links_.find(&link);
  if (it == links_.end()) return;
  std::set<uint64_t>& held = it->second;
  std::vector<uint64_t> done(held.begin(), held.upper_bound(sequence));
  if (done.empty()) return;
  held.erase(held.begin(), held.upper_bound(sequence));
  spool_.acknowledge(done, now_ms);
  pump();
}

void FeedbackRelay::published(uint64_t sequence) {
  pending_.insert(sequence);
  pump();
}

void FeedbackRelay::pump() {
  while (!pending_.empty() && !links_.empty()) {
    auto least = links_.begin();
    for (auto it = links_.begin(); it != links_.end(); ++it) {
      if (it->second.size() < least->second.size()) least = it;
    }
    if (least->second.size() >= window_) return;
    if (least->first->state() != proto::LinkConnection::State::kOpen) {
      // Closing: its close callback hands its events back.
      return;
    }
    uint64_t seq = *pending_.begin();
    pending_.erase(pending_.begin());
    auto found = spool_.unacknowledged().find(seq);
    if (found == spool_.unacknowledged().end()) continue;
    least->second.insert(seq);
    least->first->send(found->second.frame());
  }
}

}  // namespace lbmail
