// The simulation's report: the runs side by side, the ratios to the oracle and to round-robin
// with their targets, and the shift. On the terminal, as JSON (report.json) and as one
// self-contained HTML file with inline SVG charts (report.html).
#pragma once

#include <string>
#include <vector>

#include "run_stats.h"

namespace lbmail {

// Shared by the report's parts.
std::string formatNumber(const char* format, double v);
std::string htmlEscaped(const std::string& s);
const char* gatewayColour(size_t g);

struct SimReport {
  const SimSettings& settings;
  const std::vector<RunStats>& runs;
  const std::vector<std::string>& gateway_names;  // by index, as the world made them
  double total_seconds = 0;
  uint64_t warmup_cap = 0;  // gateway 1's warm-up cap per site in the warmup scenario

  const RunStats* find(const std::string& name) const;
  // mean(a) / mean(b), or 0 when either run is missing.
  double ratio(const std::string& a, const std::string& b) const;
  // Every run finished with one final state for every recipient.
  bool complete() const;

  std::string text() const;
  std::string json() const;
  std::string html() const;
};

}  // namespace lbmail
