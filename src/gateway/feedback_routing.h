// Which link carries which feedback event, without any I/O (FeedbackRelay does the sending):
// each unacknowledged event is pending or on exactly one link, a link holds at most window
// events, and each link keeps its events in the order they were sent, because a FEEDBACK_ACK
// means "everything sent on this link up to and including this one" (docs/protocol.md,
// FEEDBACK_ACK). Not by sequence: events handed back by a closed link are sent again later with
// lower sequences than some already sent on the surviving link.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace lbmail {

class FeedbackRouting {
 public:
  using Link = void*;  // the relay's link; only compared here
  struct Send {
    Link link;
    uint64_t sequence;
  };

  explicit FeedbackRouting(size_t window) : window_(window) {}

  // A feedback-capable link came up.
  void add(Link link) { links_[link]; }
  // The link closed: what it held and still_wanted says is unacknowledged goes back to pending.
  void remove(Link link, const std::function<bool(uint64_t)>& still_wanted);
  // A new event waits for a link.
  void publish(uint64_t sequence) { pending_.insert(sequence); }
  // FEEDBACK_ACK(sequence) on link: that event and every one sent on the link before it, in send
  // order; none when the link does not hold it (already acknowledged, or never sent there).
  std::vector<uint64_t> acknowledge(Link link, uint64_t sequence);
  // The next event to send, on the least-loaded link that is open and has room, or none. Pending
  // events still_wanted refuses (acknowledged meanwhile) are dropped on the way.
  std::optional<Send> next(const std::function<bool(Link)>& open, const std::function<bool(uint64_t)>& still_wanted);

  size_t pending() const { return pending_.size(); }
  size_t inFlight() const;
  size_t links() const { return links_.size(); }

 private:
  size_t window_;
  std::set<uint64_t> pending_;  // on no link, lowest first
  std::map<Link, std::deque<uint64_t>> links_;  // what each link holds, in send order
};

}  // namespace lbmail
