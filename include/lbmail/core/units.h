// Parsing and printing of the human units used in configuration: durations and byte sizes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lbmail {

using Duration = std::chrono::nanoseconds;

// "250ms", "5s", "1.5m", "2h", "100us", "10ns", "1d". A unit is required: a bare
// number is ambiguous. Negative values and overflow are rejected.
std::optional<Duration> parseDuration(std::string_view text);

// "10MiB", "512KiB", "1GiB", "64KB" (powers of 1000), "100B", "4096" (bytes).
// Fractions are allowed when the result is a whole number of bytes ("1.5KiB").
std::optional<uint64_t> parseSize(std::string_view text);

// The shortest exact rendering with the largest fitting unit: 1500ms -> "1500ms", 5s -> "5s".
std::string formatDuration(Duration d);

// Seconds as a double, for metrics and JSON.
inline double toSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Whole milliseconds, for libuv timers and uv_now arithmetic.
inline uint64_t toMillis(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// The wall clock as Unix seconds: what the ledger stores and retry times are counted in.
inline double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The wall clock as Unix milliseconds: what feedback events and tokens' days are counted in.
inline uint64_t unixNowMs() {
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace lbmail
