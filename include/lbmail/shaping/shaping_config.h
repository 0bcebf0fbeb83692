// The gateway's [shaping] table: how replies are classified (the rules file), how a throttle
// slows a (sending address, receiving site) down and how it recovers (AIMD), how long a block
// suspends it, the warm-up schedules of new sending addresses, and where the state is kept
// across restarts. docs/shaping.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lbmail/core/config_document.h"
#include "lbmail/core/units.h"

namespace lbmail::shaping {

// Additive increase, multiplicative decrease of a site's message rate and connection count.
struct AimdSettings {
  // A throttle reply multiplies the rate (and the connections) by this. Gentle, because the
  // receivers' limits are fixed windows, not congestion: a deep cut wastes the whole window.
  double decrease = 0.9;
  // Throttles closer together than this are one signal (one pipelined write can bring several
  // 421s at once): the rate is cut once.
  Duration cut_spacing = std::chrono::seconds(2);
  // Recovery starts this long after the last throttle...
  Duration quiet = std::chrono::seconds(2);
  // ...and every recover_step adds this share of the rate the last cut came from.
  double increase = 0.02;
  Duration recover_step = std::chrono::seconds(1);
  double min_rate = 0.1;  // messages per second: never slower than this
};

// A new sending address's daily cap per receiving site, growing by day (UTC days).
struct WarmupPlan {
  std::string source;  // the sending address (an IP literal); "" for every source of this gateway
  std::string start;   // "YYYY-MM-DD", UTC: day 0 of daily_caps
  std::vector<uint64_t> daily_caps;  // per site; past the last day there is no cap
  int64_t start_day = 0;  // start as days since 1970-01-01 (filled by the reader)
};

struct ShapingConfig {
  bool enabled = true;  // off: replies are still classified, nothing is slowed or suspended
  // Pattern rules (configs/shaping-rules.toml, copied beside the gateway's config). "": the
  // RFC 3463 / RFC 5321 code rules alone.
  std::string rules_file;
  Duration suspend_for = std::chrono::hours(1);  // a block reply suspends the site this long
  AimdSettings aimd;
  std::vector<WarmupPlan> warmup;
  // Suspensions, throttled rates and the day's warm-up usage, kept across restarts. "": memory
  // only. Written at most every save_interval when something changed, and at shutdown.
  std::string state_file;
  Duration save_interval = std::chrono::seconds(5);
  // How often a gateway sends SITES to the initiators while some site is shaped, and at most how
  // often on changes.
  Duration report_interval = std::chrono::seconds(1);
};

// Reads [shaping]; relative paths are read against config_file's folder.
ShapingConfig readShapingConfig(ConfigTable& t, const std::string& config_file = "");

}  // namespace lbmail::shaping
