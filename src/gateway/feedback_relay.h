// Sends the spool's events to the initiators over the links (FEEDBACK frames) and takes their
// acknowledgements (FEEDBACK_ACK): each unacknowledged event is on at most one link at a time,
// only on links whose peer announced kCapabilityFeedback, and goes back to the pending ones
// when its link closes before the acknowledgement. No link that reads them: they wait.
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "feedback_spool.h"
#include "lbmail/proto/link_connection.h"

namespace lbmail {

class FeedbackRelay {
 public:
  // window: events sent on one link and not yet acknowledged, at most (bounds what a slow
  // initiator makes the gateway queue on its link).
  FeedbackRelay(FeedbackSpool& spool, size_t window = 1024);

  void linkUp(proto::LinkConnection& link);
  void linkClosed(proto::LinkConnection& link);
  // FEEDBACK_ACK(sequence) on link: every event sent on it up to sequence is done.
  void acknowledged(proto::LinkConnection& link, uint64_t sequence, uint64_t now_ms);
  // A new event is in the spool.
  void published(uint64_t sequence);

  size_t pending() const { return pending_.size(); }
  size_t inFlight() const;
  size_t feedbackLinks() const { return links_.size(); }

 private:
  // Sends pending events to the links with room in their window, the least loaded first.
  void pump();

  FeedbackSpool& spool_;
  size_t window_;
  std::set<uint64_t> pending_;  // in the spool, on no link
  std::map<proto::LinkConnection*, std::set<uint64_t>> links_;  // feedback-capable links, what each holds
};

}  // namespace lbmail
