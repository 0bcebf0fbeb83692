// Parsing and printing of durations and byte sizes.
#include "lbmail/core/units.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace lbmail {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

// Splits "12.5ms" into 12.5 and "ms". Rejects signs, exponents, empty numbers and blanks.
bool splitNumberAndUnit(std::string_view text, double& number, std::string_view& unit) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  std::string_view digits = text.substr(0, i);
  if (digits.empty() || digits.front() == '.' || digits.back() == '.') return false;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number,
                                   std::chars_format::fixed);
  if (ec != std::errc() || end != digits.data() + digits.size()) return false;
  unit = text.substr(i);
  return true;
}

template <size_t N>
std::optional<double> scale(std::string_view text, const std::array<Unit, N>& units,
                            bool unit_required) {
  double number = 0;
  std::string_view unit;
  if (!splitNumberAndUnit(text, number, unit)) return std::nullopt;
  if (unit.empty()) {
    if (unit_required) return std::nullopt;
    return number;
  }
  for (const Unit& u : units) {
    if (u.name == unit) return number * u.factor;
  }
  return std::nullopt;
}

constexpr std::array<Unit, 7> kDurationUnits{{
    {"ns", 1.0},
    {"us", 1e3},
    {"ms", 1e6},
    {"s", 1e9},
    {"m", 60e9},
    {"h", 3600e9},
    {"d", 86400e9},
}};

constexpr std::array<Unit, 9> kSizeUnits{{
    {"B", 1.0},
    {"KiB", 1024.0},
    {"MiB", 1024.0 * 1024},
    {"GiB", 1024.0 * 1024 * 1024},
    {"TiB", 1024.0 * 1024 * 1024 * 1024},
    {"KB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
}};

}  // namespace

std::optional<Duration> parseDuration(std::string_view text) {
  std::optional<double> ns = scale(text, kDurationUnits, /*unit_required=*/true);
  // 2^62 ns is about 146 years: far past any sane setting and safely inside int64.
  if (!ns || !std::isfinite(*ns) || *ns > 4.6e18) return std::nullopt;
  double whole = std::round(*ns);
  if (std::fabs(whole - *ns) > 1e-6 * std::max(1.0, *ns)) return std::nullopt;
  return Duration(static_cast<int64_t>(whole));
}

std::optional<uint64_t> parseSize(std::string_view text) {
  std::optional<double> bytes = scale(text, kSizeUnits, /*unit_required=*/false);
  if (!bytes || !std::isfinite(*bytes) || *bytes > 9.0e18) return std::nullopt;
  double whole = std::round(*bytes);
  if (whole != *bytes) return std::nullopt;
  return static_cast<uint64_t>(whole);
}

std::string formatDuration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  struct Step {
    int64_t factor;
    const char* name;
  };
  static constexpr Step kSteps[] = {{86400'000'000'000, "d"}, {3600'000'000'000, "h"},
                                    {60'000'000'000, "m"},     {1'000'000'000, "s"},
                                    {1'000'000, "ms"},         {1'000, "us"}};
  for (const Step& s : kSteps) {
    if (ns % s.factor == 0) return std::to_string(ns / s.factor) + s.name;
  }
  return std::to_string(ns) + "ns";
}

}  // namespace lbmail
