// The answers (RESULT and REJECT) a gateway gave each initiator instance, kept for a while so
// that an initiator that lost its link (a crash, a cut) gets them again when it connects anew
// and re-sends only what no gateway answered. Bounded by count and age, oldest dropped first.
// It also counts, per instance, the deliveries that started (MAIL FROM) and have no answer yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "lbmail/proto/link_connection.h"

namespace lbmail {

class HeldAnswers {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxAnswers = 100000;
  static constexpr std::chrono::seconds kMaxAge{3600};
  // At most this many are sent on one handover, the newest (at most about 800 octets each, so
  // well under the link's 64 MiB write queue): older ones reached an initiator that was alive.
  static constexpr size_t kMaxReplay = 20000;

  void keep(uint64_t instance, const proto::ResultFrame& result, Clock::time_point now);
  void keep(uint64_t instance, const proto::RejectFrame& reject, Clock::time_point now);
  // Sends the answers held for instance on link (the newest kMaxReplay), oldest first; returns
  // how many.
  uint64_t replay(uint64_t instance, proto::LinkConnection& link, Clock::time_point now);

  void started(uint64_t instance) { ++running_[instance]; }
  void finished(uint64_t instance);
  uint64_t running(uint64_t instance) const;

  size_t size() const { return answers_.size(); }

 private:
  // An answer with its own copies of the frame's texts.
  struct Answer {
    uint64_t instance = 0;
    Clock::time_point at;
    bool is_result = true;
    proto::ResultFrame result;  // its views point into the strings below
    proto::RejectFrame reject;
    std::string enhanced_code;
    std::string text;  // the reply or the REJECT text
    std::string mx_host;
    std::string tls_version;
    std::string site;
  };

  Answer& add(uint64_t instance, Clock::time_point now);
  void expire(Clock::time_point now);

  std::deque<Answer> answers_;
  std::unordered_map<uint64_t, uint64_t> running_;
};

}  // namespace lbmail
