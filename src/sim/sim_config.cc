// Reading the simulation's configuration.
#include "sim_config.h"

#include <algorithm>

#include "lbmail/core/config_document.h"
#include "lbmail/core/socket_address.h"
#include "model_scenarios.h"

namespace lbmail {
namespace {

double latencyMs(const std::string& text) {
  std::optional<Duration> d = parseDuration(text);
  return d ? std::chrono::duration<double, std::milli>(*d).count() : 0;
}

void checkLatency(ConfigTable& t, std::string_view key, const std::string& text) {
  if (!parseDuration(text)) t.fail(key, "a duration such as \"20ms\"");
}

}  // namespace

const char* const kScenarioNames =
    "the model's matrix, loaded, uneven, heavy_tail, drift, shift, failure, blocked, throttled, warming or all; "
    "the processes' default, blocklist, throttle, warmup or live";

const std::vector<std::string>& liveScenarios() {
  static const std::vector<std::string> live = {"default", "blocklist", "throttle", "warmup"};
  return live;
}

bool validScenario(const std::string& name) {
  return std::find(liveScenarios().begin(), liveScenarios().end(), name) != liveScenarios().end() ||
         isModelScenario(name);
}

// "all": every model scenario; "live": the real-process ones.
Expected<std::vector<std::string>, std::string> parseScenarios(std::string_view list) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= list.size();) {
    size_t end = std::min(list.find(',', at), list.size());
    std::string name(list.substr(at, end - at));
    at = end + 1;
    std::vector<std::string> names = name == "all"    ? modelScenarioNames()
                                     : name == "live" ? liveScenarios()
                                                      : std::vector<std::string>{name};
    for (const std::string& n : names) {
      if (!validScenario(n)) return unexpected("'" + n + "' is not a scenario (" + std::string(kScenarioNames) + ")");
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
  }
  return out;
}

bool validModelPolicy(const std::string& p) {
  return std::find(modelPolicyNames().begin(), modelPolicyNames().end(), p) != modelPolicyNames().end();
}

bool validRunPolicy(const std::string& p) {
  return p == "ewma" || p == "round_robin" || p == "random" || p == "least_loaded" || p == "c3" || p == "prequal" ||
         p == "peak_ewma_p2c" || p == "least_request_p2c";
}

std::vector<SimLatency> defaultMatrix(uint32_t gateways, uint32_t groups) {
  std::vector<SimLatency> m;
  for (uint32_t k = 0; k < groups; ++k) {
    for (uint32_t g = 0; g < gateways; ++g) {
      SimLatency l;
      l.gateway = g;
      l.group = k;
      uint32_t distance = (g + gateways - k % gateways) % gateways;
      // Near: 10 ms; each step away 40 ms more, and a little more deferral.
      l.data_latency = std::to_string(10 + 40 * distance) + "ms";
      l.defer = distance == 0 ? 0.0 : 0.01 * distance;
      l.bounce = 0.002;
      l.max_connections = 40;
      m.push_back(l);
    }
  }
  return m;
}

uint32_t fastestGateway(const std::vector<SimLatency>& matrix, uint32_t group) {
  const SimLatency* best = nullptr;
  for (const SimLatency& l : matrix) {
    if (l.group != group) continue;
    if (!best || latencyMs(l.data_latency) < latencyMs(best->data_latency) ||
        (latencyMs(l.data_latency) == latencyMs(best->data_latency) && l.defer < best->defer)) {
      best = &l;
    }
  }
  return best ? best->gateway : 0;
}

void makeQuick(SimSettings& s) {
  s.recipients = 6000;
  s.domains = 40;
  s.attachment_size = 20 * 1024;
  s.policies = {"ewma", "round_robin"};
  s.shift_after = std::chrono::seconds(1);
  // The scenarios' paced runs take up to about 40 s here; slower under the sanitizers.
  s.run_timeout = std::chrono::seconds(120);
  s.quick = true;
}

Expected<SimConfig, std::string> loadSimConfig(const std::string& file) {
  return loadConfigFile<SimConfig>(file, [](ConfigTable& root) {
    using namespace std::chrono_literals;
    SimConfig c;
    c.service = readServiceConfig(root, Mode::kSim);
    ConfigTable t = root.table("sim");
    SimSettings& s = c.sim;
    s.work_dir = t.string("work_dir", s.work_dir);
    if (s.work_dir.empty()) t.fail("work_dir", "a folder for the simulation's files");
    s.gateways = static_cast<uint32_t>(t.integer("gateways", s.gateways, 1, 16));
    s.groups = static_cast<uint32_t>(t.integer("groups", s.groups, 1, 64));
    s.domains = static_cast<uint32_t>(t.integer("domains", s.domains, 1, 100000));
    if (s.domains < s.groups) t.fail("domains", "at least as many domains as groups");
    s.recipients = static_cast<uint64_t>(t.integer("recipients", static_cast<int64_t>(s.recipients), 1, 100'000'000));
    s.seed = static_cast<uint64_t>(t.integer("seed", 1, 0, INT64_MAX));
    s.attachment_size = t.size("attachment_size", s.attachment_size, 0, 64 << 20);
    if (t.has("policies")) {
      s.policies = t.stringArray("policies");
      for (size_t i = 0; i < s.policies.size(); ++i) {
        if (!validRunPolicy(s.policies[i]))
          t.fail("policies",
                 "policies from: ewma, round_robin, random, least_loaded, c3, prequal, peak_ewma_p2c, least_request_p2c");
        for (size_t j = 0; j < i; ++j) {
          if (s.policies[j] == s.policies[i]) t.fail("policies", "each policy once");
        }
      }
    } else {
      t.stringArray("policies");
    }
    if (s.policies.empty()) t.fail("policies", "at least one policy");
    if (t.has("model_policies")) {
      s.model_policies = t.stringArray("model_policies");
      for (const std::string& p : s.model_policies) {
        if (!validModelPolicy(p)) t.fail("model_policies", "policies from: oracle, ewma, c3, prequal, peak_ewma_p2c, "
                                         "least_request_p2c, round_robin, random, least_loaded");
      }
    }
    s.oracle = t.boolean("oracle", s.oracle);
    s.shift = t.boolean("shift", s.shift);
    s.shift_after = t.duration("shift_after", s.shift_after, 100ms, 1h);
    s.run_timeout = t.duration("run_timeout", s.run_timeout, 1s, 24h);
    s.tls = t.boolean("tls", s.tls);
    if (t.has("scenarios")) {
      std::string list;
      for (const std::string& n : t.stringArray("scenarios")) list += (list.empty() ? "" : ",") + n;
      auto scenarios = parseScenarios(list);
      if (!scenarios || list.empty()) t.fail("scenarios", std::string("scenarios from: ") + kScenarioNames);
      s.scenarios = *scenarios;
    }
    s.block_after = t.duration("block_after", s.block_after, 0s, 1h);
    s.shaping = t.boolean("shaping", s.shaping);
    s.receiver = t.string("receiver", "");
    if (!s.receiver.empty() && !SocketAddress::parse(s.receiver)) {
      t.fail("receiver", "an address with a port, like \"127.0.0.1:2525\"");
    }
    for (ConfigTable& l : t.tableArray("latency")) {
      SimLatency x;
      x.gateway = static_cast<uint32_t>(l.integer("gateway", 1, 1, 16)) - 1;
      x.group = static_cast<uint32_t>(l.integer("group", 1, 1, 64)) - 1;
      if (x.gateway >= s.gateways) l.fail("gateway", "a gateway number from 1 to [sim] gateways");
      if (x.group >= s.groups) l.fail("group", "a group number from 1 to [sim] groups");
      x.data_latency = l.string("data_latency", x.data_latency);
      checkLatency(l, "data_latency", x.data_latency);
      x.reply_latency = l.string("reply_latency", x.reply_latency);
      checkLatency(l, "reply_latency", x.reply_latency);
      x.defer = l.real("defer", 0, 0, 1);
      x.bounce = l.real("bounce", 0, 0, 1);
      if (x.defer + x.bounce > 1) l.fail("bounce", "defer + bounce at most 1");
      x.max_connections = static_cast<uint32_t>(l.integer("max_connections", 0, 0, 100000));
      s.matrix.push_back(x);
    }
    if (s.matrix.empty()) {
      s.matrix = defaultMatrix(s.gateways, s.groups);
    } else if (s.matrix.size() != static_cast<size_t>(s.gateways) * s.groups) {
      t.fail("latency", "one [[sim.latency]] per (gateway, group): gateways x groups tables");
    }
    return c;
  });
}

}  // namespace lbmail
