// The wait at a campaign's start for the gateways' handover of a crashed run's answers: per
// gateway, whether it is settled (it handed over and owes no running delivery's answer, or it is
// unreachable), and how many running deliveries it still owes. The wait ends when every gateway
// is settled or its deadline passes.
#pragma once

#include <cstdint>
#include <vector>

namespace lbmail {

class HandoverWait {
 public:
  explicit HandoverWait(size_t gateways)
      : handed_over_(gateways, false), settled_(gateways, false), running_left_(gateways, 0) {}

  void start(uint64_t until_ms) { until_ms_ = until_ms; }
  bool waiting() const { return waiting_; }
  bool expired(uint64_t now_ms) const { return waiting_ && now_ms >= until_ms_; }
  // g cannot be reached, or its link closed: it has nothing to hand over now.
  void gone(size_t g) { settled_[g] = true; }
  // g's HANDOVER: its held answers follow at once; running ones come as they finish.
  void handedOver(size_t g, uint64_t running) {
    handed_over_[g] = true;
    running_left_[g] = running;
    settled_[g] = running == 0;
  }
  // An answer g owed from its running deliveries arrived.
  void answered(size_t g) {
    if (waiting_ && handed_over_[g] && running_left_[g] > 0 && --running_left_[g] == 0) settled_[g] = true;
  }
  bool allSettled() const {
    for (bool s : settled_) {
      if (!s) return false;
    }
    return true;
  }
  void end() { waiting_ = false; }

 private:
  bool waiting_ = true;
  uint64_t until_ms_ = 0;
  std::vector<bool> handed_over_;
  std::vector<bool> settled_;
  std::vector<uint64_t> running_left_;
};

}  // namespace lbmail
