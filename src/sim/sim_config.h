// The simulation's configuration: how big the world is (gateways, domain groups, domains,
// recipients, the attachment), the latency matrix per (gateway, domain group), the policies to
// compare and the shift scenario. `--quick` scales it down to a run of seconds.
#pragma once

#include <string>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/core/service_config.h"

namespace lbmail {

// What the receivers of one domain group do for the connections of one gateway.
struct SimLatency {
  uint32_t gateway = 0;  // 0-based
  uint32_t group = 0;
  std::string data_latency = "20ms";  // end of data to its reply (the transaction time)
  std::string reply_latency = "0ms";  // every other reply
  double defer = 0;
  double bounce = 0;
  uint32_t max_connections = 0;  // per gateway address; 0: no cap
};

struct SimSettings {
  std::string work_dir = "sim-out";  // configs, logs, database, media and the report
  uint32_t gateways = 3;
  uint32_t groups = 4;
  uint32_t domains = 200;
  uint64_t recipients = 100000;
  uint64_t seed = 1;
  uint64_t attachment_size = 100 * 1024;  // the offer PDF; 0: text only
  std::vector<std::string> policies = {"ewma", "round_robin", "random", "least_loaded"};
  bool oracle = true;  // also run the oracle (policy fixed on the matrix's fastest gateways)
  bool shift = false;  // after shift_after, group 0's fastest gateway changes
  Duration shift_after = std::chrono::seconds(3);
  Duration run_timeout = std::chrono::minutes(10);
  std::vector<SimLatency> matrix;  // filled with the default when the file has none
  // An outside SMTP receiver ("127.0.0.1:2525") for every domain: no sinks and no dnsmasq are
  // started, and the matrix does not apply. perf/e2e points the sim and its peers at one receiver.
  std::string receiver;
  // STARTTLS on every hop to the receivers: each sink gets a self-signed certificate for its
  // MX name (made by the world), and the gateways deliver with [smtp] tls_policy = "encrypt".
  bool tls = false;
  // The scenarios run one after the other (sim_scenario.h): "default" (the policy comparison
  // above), "blocklist", "throttle", "warmup".
  // The model world's scenarios (matrix, loaded, ... : model_scenarios.h) run first, in
  // process, with every policy of model_policies (empty: all of them).
  std::vector<std::string> scenarios = {"default"};
  std::vector<std::string> model_policies;
  Duration block_after = std::chrono::seconds(2);  // blocklist: when group 0's sink blocks gateway 1
  // Write [shaping] into the scenarios' gateway configs (off: a gateway without the shaping
  // integration; the scenarios then show what happens without it).
  bool shaping = true;
  bool quick = false;  // --quick: scenario worlds smaller as well
};

struct SimConfig {
  ServiceConfig service;
  SimSettings sim;
};

// The default matrix: group k's receivers are near gateway k mod G (fast), farther from the
// others (slower, and they defer a little), with a cap per connection source.
std::vector<SimLatency> defaultMatrix(uint32_t gateways, uint32_t groups);

// The matrix's fastest gateway for a group (by data latency, then deferrals).
uint32_t fastestGateway(const std::vector<SimLatency>& matrix, uint32_t group);

// --quick: a world small enough for a run under 30 seconds.
void makeQuick(SimSettings& s);

Expected<SimConfig, std::string> loadSimConfig(const std::string& file);

// The real-process scenarios (`live` stands for them, in order); whether a name is a scenario
// of either kind (model_scenarios.h has the model's, which `all` stands for).
const std::vector<std::string>& liveScenarios();
bool validScenario(const std::string& name);
extern const char* const kScenarioNames;  // for messages: every name a list may hold
// "all", "live" or a comma-separated list of both kinds into scenario names; an error names
// the bad one.
Expected<std::vector<std::string>, std::string> parseScenarios(std::string_view list);

// The selection policies a run may compare (the oracle runs as its own "fixed" policy).
bool validRunPolicy(const std::string& policy);
// The model world's policies: "oracle" and every selection policy.
bool validModelPolicy(const std::string& policy);

}  // namespace lbmail
