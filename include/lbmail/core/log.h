// Structured logging: one line per event, key=value fields, to stderr, with repeats rate-limited.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lbmail/core/units.h"

namespace lbmail {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::string_view logLevelName(LogLevel level);
bool parseLogLevel(std::string_view text, LogLevel& out);

// One key=value pair. Holds views: a field lives only for the duration of the log call.
class LogField {
 public:
  enum class Kind { Text, Signed, Unsigned, Real, Boolean };

  LogField(std::string_view key, std::string_view value) : key_(key), kind_(Kind::Text), text_(value) {}
  LogField(std::string_view key, const char* value) : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, const std::string& value) : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, bool value) : key_(key), kind_(Kind::Boolean), u_(value) {}
  LogField(std::string_view key, double value) : key_(key), kind_(Kind::Real), d_(value) {}
  template <std::signed_integral T>
  LogField(std::string_view key, T value) : key_(key), kind_(Kind::Signed), i_(value) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  LogField(std::string_view key, T value) : key_(key), kind_(Kind::Unsigned), u_(value) {}

  void appendTo(std::string& line) const;

 private:
  std::string_view key_;
  Kind kind_;
  std::string_view text_;
  int64_t i_ = 0;
  uint64_t u_ = 0;
  double d_ = 0;
};

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  Logger();  // writes to stderr with the system clock
  Logger(Sink sink, Clock clock);

  void setLevel(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }
  // Identical warnings and errors (same event and fields) are written at most once per
  // interval; the next one written carries repeated=N for those held back.
  void setRepeatInterval(Duration interval) { repeat_interval_ = interval; }
  bool enabled(LogLevel level) const { return level >= level_; }

  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields);
  // The same, but warnings and errors with the same repeat_key are repeats of one another
  // whatever their event and fields: a peer that connects from ever new ports, for ever new
  // reasons, is still one peer.
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
           std::string_view repeat_key);

  // A status line redrawn in place at the bottom of a terminal (the initiator's progress).
  // Each log line first erases it and then draws it again below itself, so the two never
  // overwrite each other. finishStatus draws it a last time, ends it with a newline and
  // forgets it.
  void showStatus(std::string_view status);
  void finishStatus(std::string_view status);

  uint64_t suppressedTotal() const { return suppressed_total_.load(std::memory_order_relaxed); }

 private:
  struct RepeatState {
    std::chrono::system_clock::time_point window_start;
    uint64_t held_back = 0;
  };

  // Returns false when a line of this key is a repeat to hold back; sets repeats to report
  // otherwise.
  bool admitRepeat(std::string_view key, std::chrono::system_clock::time_point now, uint64_t& repeats);
  void write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields,
             std::string_view repeat_key);

  Sink sink_;
  Clock clock_;
  LogLevel level_ = LogLevel::kInfo;
  Duration repeat_interval_ = std::chrono::seconds(10);
  std::mutex mutex_;
  std::unordered_map<uint64_t, RepeatState> repeats_;
  std::atomic<uint64_t> suppressed_total_{0};
  std::string status_;  // the status line drawn now; empty when none
};

// The process-wide logger every subsystem writes to.
Logger& logger();

inline void logDebug(std::string_view event, std::initializer_list<LogField> fields = {}) {
  if (logger().enabled(LogLevel::kDebug)) logger().log(LogLevel::kDebug, event, fields);
}
inline void logInfo(std::string_view event, std::initializer_list<LogField> fields = {}) {
  logger().log(LogLevel::kInfo, event, fields);
}
inline void logWarn(std::string_view event, std::initializer_list<LogField> fields = {}) {
  logger().log(LogLevel::kWarn, event, fields);
}
inline void logError(std::string_view event, std::initializer_list<LogField> fields = {}) {
  logger().log(LogLevel::kError, event, fields);
}

}  // namespace lbmail
