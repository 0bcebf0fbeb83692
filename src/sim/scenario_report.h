// The scenarios' part of the report: their targets as pass/fail lines, and per run each
// gateway's share of group 1 over time, the policy refusals and the 421s.
#pragma once

#include <string>
#include <vector>

#include "lbmail/core/json_writer.h"
#include "run_stats.h"

namespace lbmail {

struct ScenarioTarget {
  std::string run;
  std::string what;   // what is measured, with its limit
  double value = 0;
  bool met = false;
};

class ScenarioReport {
 public:
  ScenarioReport(const SimSettings& settings, const std::vector<RunStats>& runs, uint64_t warmup_cap);

  // The oracle run a run compares with: "oracle", or "<scenario>-oracle".
  static std::string oracleOf(const RunStats& r);
  const std::vector<ScenarioTarget>& targets() const { return targets_; }
  bool any() const;  // some run belongs to a scenario other than the default

  std::string text() const;
  void json(JsonWriter& w, const RunStats& r) const;  // the run's scenario fields
  void jsonTargets(JsonWriter& w) const;
  std::string html(const std::vector<std::string>& gateway_names) const;

  // Over the scenario runs: 421s the sinks gave, and the group's deliveries by gateway g from
  // second `from` on (and all of them).
  static uint64_t refused421(const RunStats& r);
  static std::pair<uint64_t, uint64_t> deliveriesFrom(const RunStats& r, uint32_t group, uint32_t g, size_t from);

 private:
  const RunStats* find(const std::string& name) const;
  void blocklist(const RunStats& r);
  void throttle(const RunStats& r);
  void warmup(const RunStats& r);
  void add(const RunStats& r, std::string what, double value, bool met) {
    targets_.push_back({r.name, std::move(what), value, met});
  }

  const SimSettings& settings_;
  const std::vector<RunStats>& runs_;
  uint64_t warmup_cap_;
  std::vector<ScenarioTarget> targets_;
};

}  // namespace lbmail
