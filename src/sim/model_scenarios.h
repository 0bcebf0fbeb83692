// The model world's named scenarios (each one change to the `matrix` defaults), the domains'
// popularity and groups, the oracle's routes, and one scenario run for every policy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model_spec.h"
#include "model_stats.h"

namespace lbmail {

// matrix, loaded, uneven, heavy_tail, drift, shift, failure, blocked, throttled, warming.
const std::vector<std::string>& modelScenarioNames();
bool isModelScenario(const std::string& name);

// The scenario's world; quick: 5 s of arrivals at a third of the rate (the scenarios whose rate
// is set by a site's capacity keep it).
ModelSpec modelScenario(const std::string& name, uint64_t seed, bool quick);

// Each domain's expected share of the messages (Zipf over ranks shuffled by the seed), and its
// group (index mod groups, or a hash for heavy_tail).
std::vector<double> modelDomainShares(const ModelSpec& spec);
std::vector<uint16_t> modelDomainGroups(const ModelSpec& spec);

// What the oracle knows: each domain through its fastest gateway by base latency, the biggest
// domains first, while the gateway and its connections to the site have room for them; the
// scenario's change applied to the routes after it.
ModelRoutes modelOracleRoutes(const ModelSpec& spec);

// The model's policies in report order: "oracle" (fixed routes) first.
const std::vector<std::string>& modelPolicyNames();

struct ModelScenarioResult {
  ModelSpec spec;
  std::vector<ModelResult> results;  // in modelPolicyNames() order, those that ran
  double cpu_seconds = 0;
};

// Runs the scenario for each named policy (empty: every one).
ModelScenarioResult runModelScenario(const std::string& name, uint64_t seed, bool quick,
                                     const std::vector<std::string>& policies);

}  // namespace lbmail
