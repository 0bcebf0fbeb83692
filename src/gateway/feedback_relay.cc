// Feedback events over the links: each on one link until acknowledged or the link closes.
#include "feedback_relay.h"

namespace lbmail {

FeedbackRelay::FeedbackRelay(FeedbackSpool& spool, size_t window) : spool_(spool), routing_(window) {
  for (const auto& [seq, e] : spool_.unacknowledged()) routing_.publish(seq);
}

void FeedbackRelay::linkUp(proto::LinkConnection& link) {
  // An older initiator would refuse the frame type: its events stay for one that reads them.
  if (!(link.peerCapabilities() & proto::kCapabilityFeedback)) return;
  routing_.add(&link);
  pump();
}

void FeedbackRelay::linkClosed(proto::LinkConnection& link) {
  routing_.remove(&link, [this](uint64_t seq) { return unacknowledged(seq); });
  pump();
}

void FeedbackRelay::acknowledged(proto::LinkConnection& link, uint64_t sequence, uint64_t now_ms) {
  std::vector<uint64_t> done = routing_.acknowledge(&link, sequence);
  if (done.empty()) return;
  spool_.acknowledge(done, now_ms);
  pump();
}

void FeedbackRelay::published(uint64_t sequence) {
  routing_.publish(sequence);
  pump();
}

void FeedbackRelay::pump() {
  auto open = [](FeedbackRouting::Link l) {
    return static_cast<proto::LinkConnection*>(l)->state() == proto::LinkConnection::State::kOpen;
  };
  auto wanted = [this](uint64_t seq) { return unacknowledged(seq); };
  while (auto send = routing_.next(open, wanted)) {
    // The routing hands back only links the relay added: LinkConnections.
    static_cast<proto::LinkConnection*>(send->link)->send(spool_.unacknowledged().at(send->sequence).frame());
  }
}

}  // namespace lbmail
