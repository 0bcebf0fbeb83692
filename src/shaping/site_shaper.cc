// AIMD and suspension of one (sending address, receiving site).
#include "site_shaper.h"

#include <algorithm>
#include <cmath>

namespace lbmail::shaping {
namespace {

constexpr size_t kMaxReasonOctets = 512;
// The share of connections never goes below this: connections() keeps at least one anyway, and
// additive recovery from a share of 0 would take as long as from this.
constexpr double kMinShare = 0.01;

// The reply reaches the state file (TOML wants valid UTF-8), /status and logs: a remote server
// wrote it, so only printable ASCII is kept.
std::string printableReason(std::string_view reply) {
  std::string out(reply.substr(0, kMaxReasonOctets));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

void SiteShaper::suspend(uint64_t now, Duration suspend_for, std::string_view reply) {
  ++state_.blocks;
  state_.suspended_until = now + toMillis(suspend_for);
  state_.reason = printableReason(reply);
}

void SiteShaper::noteStart(uint64_t now) {
  uint64_t second = now / 1000;
  SecondCount& slot = window_[second % kWindowSeconds];
  if (slot.second != second) slot = SecondCount{second, 0};
  ++slot.starts;
  if (!counted_) {
    first_start_ = now;
    counted_ = true;
  }
}

double SiteShaper::sendRate(uint64_t now) const {
  if (!counted_) return 0;
  uint64_t second = now / 1000;
  uint64_t starts = 0;
  for (const SecondCount& slot : window_) {
    if (slot.second <= second && slot.second + kWindowSeconds > second) starts += slot.starts;
  }
  // The window covers the whole seconds before this one and the part of this one gone by; a
  // site that started sending more recently than that has a shorter window (at least 1 s, so a
  // burst in the first milliseconds is not read as a huge rate).
  uint64_t window_ms = (kWindowSeconds - 1) * 1000 + now % 1000;
  if (now > first_start_) window_ms = std::min(window_ms, now - first_start_);
  window_ms = std::max<uint64_t>(window_ms, 1000);
  return static_cast<double>(starts) * 1000.0 / static_cast<double>(window_ms);
}

bool SiteShaper::throttle(uint64_t now, const AimdSettings& aimd) {
  ++state_.throttles;
  Limits now_limits = limits(now, aimd);
  bool first = now_limits.rate == 0;
  // A clock that went back (a restart on another host) must not hold cuts off until it catches up.
  if (!first && now >= state_.last_cut && now - state_.last_cut < toMillis(aimd.cut_spacing)) return false;
  double base = now_limits.rate;
  if (first) {
    base = std::max(aimd.min_rate, sendRate(now));
    state_.peak_rate = base;
  }
  state_.cut_base = base;
  state_.rate = std::max(aimd.min_rate, base * aimd.decrease);
  state_.connection_share = std::max(kMinShare, now_limits.connection_share * aimd.decrease);
  state_.last_cut = now;
  return first;
}

SiteShaper::Limits SiteShaper::limits(uint64_t now, const AimdSettings& aimd) {
  if (state_.rate == 0) return Limits{};
  uint64_t elapsed = now > state_.last_cut ? now - state_.last_cut : 0;
  uint64_t quiet = toMillis(aimd.quiet);
  if (elapsed < quiet) return Limits{state_.rate, state_.connection_share};
  // Additive increase: one step at the end of the quiet time, then one every recover_step.
  double steps = std::floor(static_cast<double>(elapsed - quiet) / static_cast<double>(toMillis(aimd.recover_step))) + 1;
  double rate = state_.rate + steps * aimd.increase * state_.cut_base;
  if (rate >= state_.peak_rate) {
    endThrottle();
    return Limits{};
  }
  return Limits{rate, std::min(1.0, state_.connection_share + steps * aimd.increase)};
}

void SiteShaper::endThrottle() {
  state_.rate = 0;
  state_.connection_share = 1;
  state_.cut_base = 0;
  state_.peak_rate = 0;
}

}  // namespace lbmail::shaping
