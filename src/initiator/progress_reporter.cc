// Progress lines.
#include "progress_reporter.h"

#include <cstdio>

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

std::string duration(double seconds) {
  auto s = static_cast<uint64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  return buf;
}

uint64_t finalCount(const ProgressReporter::Snapshot& s) { return s.delivered + s.bounced + s.failed + s.suppressed; }

}  // namespace

ProgressReporter::ProgressReporter(Duration log_interval, bool terminal, Logger& log)
    : interval_ms_(toMillis(log_interval)), terminal_(terminal), log_(log) {}

std::optional<double> ProgressReporter::etaSeconds(const Snapshot& s) {
  uint64_t done = finalCount(s);
  if (s.rate <= 0 || s.total == 0) return std::nullopt;
  return done >= s.total ? 0.0 : static_cast<double>(s.total - done) / s.rate;
}

std::string ProgressReporter::line(const Snapshot& s) {
  constexpr int kWidth = 24;
  double share = s.total ? static_cast<double>(finalCount(s)) / static_cast<double>(s.total) : 1.0;
  if (share > 1) share = 1;
  int filled = static_cast<int>(share * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::optional<double> eta = etaSeconds(s);
  char buf[256];
  std::snprintf(
      buf, sizeof buf, "[%s] %5.1f%% sent %llu delivered %llu deferred %llu bounced %llu failed %llu  %.0f/s  ETA %s",
      bar.c_str(), share * 100, static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.delivered),
      static_cast<unsigned long long>(s.deferred), static_cast<unsigned long long>(s.bounced),
      static_cast<unsigned long long>(s.failed), s.rate, eta ? duration(*eta).c_str() : "-");
  return buf;
}

void ProgressReporter::update(const Snapshot& s, uint64_t now_ms) {
  uint64_t every = terminal_ ? 250 : interval_ms_;
  if (last_ms_ != 0 && now_ms - last_ms_ < every) return;
  last_ms_ = now_ms;
  if (terminal_)
    draw(s, false);
  else
    log(s, "campaign.progress");
}

void ProgressReporter::finish(const Snapshot& s) {
  if (terminal_) draw(s, true);
  log(s, "campaign.done");
}

void ProgressReporter::draw(const Snapshot& s, bool last) {
  // Through the logger, which redraws the line in place and below each log line.
  if (last) {
    log_.finishStatus(line(s));
  } else {
    log_.showStatus(line(s));
  }
  drawn_ = true;
}

void ProgressReporter::log(const Snapshot& s, const char* event) {
  std::optional<double> eta = etaSeconds(s);
  log_.log(LogLevel::kInfo, event,
           {{"total", s.total},
            {"sent", s.sent},
            {"delivered", s.delivered},
            {"deferred", s.deferred},
            {"bounced", s.bounced},
            {"failed", s.failed},
            {"suppressed", s.suppressed},
            {"in_flight", s.in_flight},
            {"rate", static_cast<int64_t>(s.rate)},
            {"eta_s", static_cast<int64_t>(eta ? *eta : -1)}});
}

}  // namespace lbmail
