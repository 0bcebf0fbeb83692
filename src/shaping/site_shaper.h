// One (sending address, receiving site)'s reaction to its replies: a suspension after a block,
// and an AIMD rate and connection share after throttles, recovering on a clock the caller gives.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lbmail/shaping/shaping_config.h"

namespace lbmail::shaping {

class SiteShaper {
 public:
  // What survives a restart (the state file). Times are Unix ms.
  struct State {
    uint64_t suspended_until = 0;
    std::string reason;        // the reply that suspended it (printable ASCII, at most 512 octets)
    double rate = 0;           // messages per second set by the last cut; 0: not throttled
    double connection_share = 1;  // set by the last cut
    uint64_t last_cut = 0;
    double cut_base = 0;       // the rate the last cut came from: recovery adds a share of it
    double peak_rate = 0;      // the send rate before the first cut: recovered to it, unthrottled
    uint64_t throttles = 0;
    uint64_t blocks = 0;
  };
  struct Limits {
    double rate = 0;  // 0: not throttled
    double connection_share = 1;
  };

  bool suspended(uint64_t now) const { return now < state_.suspended_until; }
  void suspend(uint64_t now, Duration suspend_for, std::string_view reply);

  // A message to the site started: counted for the send rate a first cut starts from.
  void noteStart(uint64_t now);
  // Messages started per second over the last few seconds.
  double sendRate(uint64_t now) const;

  // A throttle reply: cuts the rate and the connection share by aimd.decrease, at most once per
  // cut_spacing. True when the site was not throttled before.
  bool throttle(uint64_t now, const AimdSettings& aimd);
  // The rate and share now, recovery included; ends the throttle once the rate is back to the
  // rate before the first cut.
  Limits limits(uint64_t now, const AimdSettings& aimd);

  const State& state() const { return state_; }
  void restore(State s) { state_ = std::move(s); }

 private:
  // Starts per whole second, over the last kWindowSeconds seconds (a ring indexed by second).
  static constexpr uint64_t kWindowSeconds = 5;
  struct SecondCount {
    uint64_t second = 0;
    uint32_t starts = 0;
  };

  void endThrottle();

  State state_;
  std::array<SecondCount, kWindowSeconds> window_{};
  uint64_t first_start_ = 0;  // the first start counted, for a window shorter than kWindowSeconds
  bool counted_ = false;
};

}  // namespace lbmail::shaping
