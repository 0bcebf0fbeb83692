// The scenarios' changes to the sinks, the gateways and the oracle.
#include "sim_scenario.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "sim_world.h"

namespace lbmail {
namespace {

// Today's date in UTC, the warm-up plan's day 0.
std::string todayUtc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The classifier's rules for the two replies the scenarios' sinks give (the format of
// configs/shaping-rules.toml). Generic rules: the sinks' MX names are no provider's.
constexpr const char* kRules =
    "[[rule]]\n"
    "pattern = \"blocked using|listed (at|on|in)|spamhaus|blocklist\"\n"
    "class = \"block\"\n\n"
    "[[rule]]\n"
    "pattern = \"4\\\\.7\\\\.28|rate limited|unusual rate\"\n"
    "class = \"throttle\"\n";

}  // namespace

std::string SimScenario::blockReply(const std::string& client) {
  return "554 5.7.1 Service unavailable; Client host [" + client + "] blocked using zen.spamhaus.org";
}

std::string SimScenario::throttleReply(const std::string& client) {
  // Gmail's text (support.google.com/a/answer/3726730), on one line.
  return "421 4.7.28 [" + client +
         "] Our system has detected an unusual rate of unsolicited mail originating from your IP address. "
         "To protect our users from spam, mail sent from your IP address has been temporarily rate limited.";
}

uint64_t SimScenario::warmupCap() const { return std::max<uint64_t>(10, world_.recipientsInGroup(0) / 10); }

std::vector<SimLatency> SimScenario::matrix(const RunWorld& run) const {
  std::vector<SimLatency> m = settings_.matrix;
  if (run.scenario == "default") return m;
  for (SimLatency& l : m) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*parseDuration(l.data_latency)).count();
    l.data_latency = std::to_string(ms + kPacedExtraMs) + "ms";
    // No deferrals: the scenario's own replies are what the runs must cope with (and the fixed
    // oracle does not retry a deferral through its one gateway).
    l.defer = 0;
  }
  return m;
}

void SimScenario::sinkRules(const RunWorld& run, uint32_t group, toml::array& rules) const {
  if (group != 0) return;
  if (run.scenario == "blocklist") {
    std::string source = world_.gatewaySource(0);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.block_after).count();
    rules.insert(rules.begin(), toml::table{{"client", source},
                                            {"after", std::to_string(ms) + "ms"},
                                            {"bounce_rcpt", 1.0},
                                            {"bounce_reply", blockReply(source)}});
  }
  if (run.scenario == "throttle") {
    // Every rule of the group's sink is per client: each gets the limit and Gmail's reply.
    for (toml::node& node : rules) {
      toml::table& rule = *node.as_table();
      std::string client = rule["client"].value_or(std::string());
      rule.insert_or_assign("max_message_rate", kThrottleRate);
      rule.insert_or_assign("rate_reply", throttleReply(client));
    }
  }
}

uint32_t SimScenario::oracleGateway(const RunWorld& run, uint32_t group) const {
  uint32_t best = fastestGateway(settings_.matrix, group);
  // The oracle knows gateway 1's cap (warmup) and its block for group 1 (blocklist): those
  // groups go to the next fastest gateway.
  bool avoid = (run.scenario == "warmup" && run.capped) || (run.scenario == "blocklist" && group == 0);
  if (!avoid || best != 0 || settings_.gateways == 1) return best;
  std::vector<SimLatency> others;
  for (const SimLatency& l : settings_.matrix) {
    if (l.gateway != 0) others.push_back(l);
  }
  return fastestGateway(others, group);
}

toml::array SimScenario::oracleRoutes(const RunWorld& run) const {
  toml::array routes;
  const std::vector<std::string>& domains = world_.domainNames();
  if (run.scenario == "throttle" && settings_.gateways > 1) {
    // Group 1's domains, biggest first (the world's sizes fall as 1/(d+1)), each to the
    // gateway with the least expected load so far.
    std::vector<double> load(settings_.gateways, 0);
    for (uint32_t d = 0; d < domains.size(); d += settings_.groups) {
      auto g = static_cast<uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
      load[g] += 1.0 / (d + 1);
      routes.push_back(toml::table{{"domain", domains[d]}, {"gateway", world_.gatewayName(g)}});
    }
  }
  for (uint32_t k = 0; k < settings_.groups; ++k) {
    routes.push_back(toml::table{{"domain", ".g" + std::to_string(k + 1) + ".sim"},
                                 {"gateway", world_.gatewayName(oracleGateway(run, k))}});
  }
  return routes;
}

toml::table SimScenario::shaping(const RunWorld& run, uint32_t g, const std::string& run_name) const {
  std::string rules = world_.path("shaping-rules.toml");
  std::ofstream(rules, std::ios::trunc) << kRules;
  // Fresh per run: a suspension or a day's warm-up usage must not carry into the next run.
  std::string state = world_.path("state/" + run_name + "-" + world_.gatewayName(g) + ".state");
  std::error_code ec;
  std::filesystem::create_directories(world_.path("state"), ec);
  std::filesystem::remove(state, ec);
  toml::table t{{"enabled", true}, {"rules_file", rules}, {"state_file", state}, {"suspend_for", "10m"}};
  if (run.scenario == "warmup" && run.capped && g == 0) {
    t.insert("warmup", toml::array{toml::table{{"start", todayUtc()},
                                               {"daily_caps", toml::array{static_cast<int64_t>(warmupCap())}}}});
  }
  return t;
}

void SimScenario::gatewayTables(const RunWorld& run, uint32_t g, const std::string& run_name, toml::table& smtp,
                                toml::table& root) const {
  if (run.scenario == "default") return;
  smtp.insert_or_assign("max_connections", kPacedConnections);
  if (run.scenario == "throttle" && run.oracle) {
    // The oracle knows the limit: a little under it, as the sink's window is fixed.
    toml::array limits;
    const std::vector<std::string>& domains = world_.domainNames();
    for (uint32_t d = 0; d < domains.size(); d += settings_.groups) {
      limits.push_back(toml::table{{"name", domains[d]}, {"max_messages_per_second", kThrottleRate * 0.9}});
    }
    smtp.insert("domain", std::move(limits));
  }
  if (settings_.shaping) root.insert("shaping", shaping(run, g, run_name));
}

}  // namespace lbmail
