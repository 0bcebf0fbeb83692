// How a running campaign shows its progress: on a terminal, one line redrawn in place (a bar,
// sent, delivered, deferred, bounced, failed, rate, ETA); otherwise a log line per interval.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lbmail/core/log.h"
#include "lbmail/core/units.h"

namespace lbmail {

class ProgressReporter {
 public:
  struct Snapshot {
    uint64_t total = 0;                               // recipients in the database
    uint64_t sent = 0;                                // SENDs this run
    uint64_t delivered = 0, bounced = 0, failed = 0;  // final, including earlier runs
    uint64_t suppressed = 0;                          // final: on the suppression list, never sent
    uint64_t deferred = 0;                            // waiting for a retry
    uint64_t in_flight = 0;
    double rate = 0;  // outcomes per second
  };

  // On a terminal the line is drawn as the logger's status line, so log lines never
  // overwrite it.
  ProgressReporter(Duration log_interval, bool terminal, Logger& log = logger());

  // Draws (a terminal, at most every 250 ms) or logs (every log_interval) when due.
  void update(const Snapshot& s, uint64_t now_ms);
  // The last line: the bar ends with a newline, or a final log line.
  void finish(const Snapshot& s);

  static std::optional<double> etaSeconds(const Snapshot& s);
  static std::string line(const Snapshot& s);

 private:
  void draw(const Snapshot& s, bool last);
  void log(const Snapshot& s, const char* event);

  uint64_t interval_ms_;
  bool terminal_;
  Logger& log_;
  uint64_t last_ms_ = 0;
  bool drawn_ = false;
};

}  // namespace lbmail
