// Structured key=value logging with rate-limited repeats.
#include "lbmail/core/log.h"

#include <xxhash.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "lbmail/core/quoted_string.h"

namespace lbmail {
namespace {

constexpr size_t kMaxRepeatEntries = 4096;

// ECMA-48 "erase in line" from the cursor to the end (EL 0).
constexpr std::string_view kEraseLine = "\033[K";

bool needsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

// Quotes a value so a line stays one line and parses back unambiguously.
void appendValue(std::string& line, std::string_view v) {
  if (!needsQuoting(v)) {
    line.append(v);
    return;
  }
  appendQuoted(line, v, QuoteStyle::kLog);
}

void appendTimestamp(std::string& line, std::chrono::system_clock::time_point tp) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1'000'000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%06" PRId64 "Z", static_cast<int64_t>(us % 1'000'000));
  line.append(buf);
}

}  // namespace

std::string_view logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

bool parseLogLevel(std::string_view text, LogLevel& out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (logLevelName(l) == text) {
      out = l;
      return true;
    }
  }
  return false;
}

void LogField::appendTo(std::string& line) const {
  line.push_back(' ');
  line.append(key_);
  line.push_back('=');
  char buf[32];
  switch (kind_) {
    case Kind::Text: appendValue(line, text_); return;
    case Kind::Signed: std::snprintf(buf, sizeof buf, "%" PRId64, i_); break;
    case Kind::Unsigned: std::snprintf(buf, sizeof buf, "%" PRIu64, u_); break;
    case Kind::Real: std::snprintf(buf, sizeof buf, "%.6g", d_); break;
    case Kind::Boolean: std::snprintf(buf, sizeof buf, "%s", u_ ? "true" : "false"); break;
  }
  line.append(buf);
}

Logger::Logger()
    : Logger([](std::string_view line) { std::fwrite(line.data(), 1, line.size(), stderr); },
             [] { return std::chrono::system_clock::now(); }) {}

Logger::Logger(Sink sink, Clock clock) : sink_(std::move(sink)), clock_(std::move(clock)) {}

bool Logger::admitRepeat(std::string_view repeat_key, std::chrono::system_clock::time_point now,
                         uint64_t& repeats) {
  repeats = 0;
  uint64_t key = XXH3_64bits(repeat_key.data(), repeat_key.size());
  auto it = repeats_.find(key);
  if (it != repeats_.end() && now - it->second.window_start < repeat_interval_) {
    ++it->second.held_back;
    ++suppressed_total_;
    return false;
  }
  if (it != repeats_.end()) {
    repeats = it->second.held_back;
    it->second = RepeatState{now, 0};
    return true;
  }
  if (repeats_.size() >= kMaxRepeatEntries) {
    // Bounded memory: forget windows that have ended; if every window is live, start over.
    std::erase_if(repeats_, [&](const auto& e) { return now - e.second.window_start >= repeat_interval_; });
    if (repeats_.size() >= kMaxRepeatEntries) repeats_.clear();
  }
  repeats_.emplace(key, RepeatState{now, 0});
  return true;
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  write(level, event, fields, {});
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
                 std::string_view repeat_key) {
  write(level, event, fields, repeat_key);
}

// An empty repeat_key: the line itself (event and fields) is the key.
void Logger::write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
                   std::string_view repeat_key) {
  if (!enabled(level)) return;
  std::string body;
  body.reserve(128);
  body.append("level=");
  body.append(logLevelName(level));
  body.append(" event=");
  appendValue(body, event);
  for (const LogField& f : fields) f.appendTo(body);

  std::lock_guard lock(mutex_);
  auto now = clock_();
  uint64_t repeats = 0;
  if (level >= LogLevel::kWarn && !admitRepeat(repeat_key.empty() ? body : repeat_key, now, repeats)) return;

  std::string line;
  line.reserve(body.size() + 48 + status_.size());
  // A status line is on screen: back to its start and erase it, so the log line replaces it.
  if (!status_.empty()) line.append("\r").append(kEraseLine);
  line.append("ts=");
  appendTimestamp(line, now);
  line.push_back(' ');
  line.append(body);
  if (repeats > 0) LogField("repeated", repeats).appendTo(line);
  line.push_back('\n');
  if (!status_.empty()) line.append(status_).append(kEraseLine);  // drawn again below
  sink_(line);
}

void Logger::showStatus(std::string_view status) {
  std::lock_guard lock(mutex_);
  status_.assign(status);
  std::string out;
  out.append("\r").append(status_).append(kEraseLine);
  sink_(out);
}

void Logger::finishStatus(std::string_view status) {
  std::lock_guard lock(mutex_);
  std::string out;
  out.append("\r").append(status).append(kEraseLine).append("\n");
  status_.clear();
  sink_(out);
}

Logger& logger() {
  static Logger instance;
  return instance;
}

}  // namespace lbmail
