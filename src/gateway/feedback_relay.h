// Sends the spool's events to the initiators over the links (FEEDBACK frames) and takes their
// acknowledgements (FEEDBACK_ACK): each unacknowledged event is on at most one link at a time,
// only on links whose peer announced kCapabilityFeedback, and goes back to the pending ones
// when its link closes before the acknowledgement. No link that reads them: they wait. Which
// link carries what is FeedbackRouting's; this class does the sending.
#pragma once

#include <cstdint>

#include "feedback_routing.h"
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
  // FEEDBACK_ACK(sequence) on link: that event and every one sent on the link before it is done
  // (the initiator applies them in arrival order).
  void acknowledged(proto::LinkConnection& link, uint64_t sequence, uint64_t now_ms);
  // A new event is in the spool.
  void published(uint64_t sequence);

  size_t pending() const { return routing_.pending(); }
  size_t inFlight() const { return routing_.inFlight(); }
  size_t feedbackLinks() const { return routing_.links(); }

 private:
  // Sends pending events to the open links with room in their window, the least loaded first.
  void pump();
  bool unacknowledged(uint64_t sequence) const { return spool_.unacknowledged().count(sequence) > 0; }

  FeedbackSpool& spool_;
  FeedbackRouting routing_;
};

}  // namespace lbmail
