// The model world's report: per scenario, every policy's delivery times, throughput and domain
// switches beside the oracle's, the scenario's own figures and the targets (pass/FAIL). On the
// terminal, as model-report.json and as model-report.html (inline SVG: p99 per policy per
// scenario).
#pragma once

#include <string>
#include <vector>

#include "model_scenarios.h"

namespace lbmail {

struct ModelTarget {
  std::string scenario;
  std::string name;  // what is compared, e.g. "ewma mean <= 1.05 x oracle"
  double value = 0;
  double limit = 0;
  bool met = false;
};

class ModelReport {
 public:
  ModelReport(std::vector<ModelScenarioResult> scenarios, double seconds);

  // One scenario's table, extras and targets (the progress line prints it as each ends).
  std::string scenarioText(size_t i) const;
  std::string text() const;
  std::string json() const;
  std::string html() const;
  const std::vector<ModelTarget>& targets() const { return targets_; }
  bool met() const;

 private:
  void addTargets(const ModelScenarioResult& s);
  void target(const ModelScenarioResult& s, std::string name, double value, double limit);

  std::vector<ModelScenarioResult> scenarios_;
  double seconds_;
  std::vector<ModelTarget> targets_;
};

// A result by policy name, or nullptr.
const ModelResult* modelResult(const ModelScenarioResult& s, const std::string& policy);

}  // namespace lbmail
