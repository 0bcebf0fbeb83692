// The model scenarios, the domains' popularity, the oracle's routes, and running a scenario.
#include "model_scenarios.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <numeric>

#include "lbmail/routing/gateway_selector.h"
#include "model_random.h"
#include "model_world.h"

namespace lbmail {
namespace {

// Room the oracle leaves on a capacity, so that its routes do not run anything at 100%.
constexpr double kHeadroom = 0.85;

uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The matrix: group k is near gateway k mod G (10 ms), each step away adds 40 ms and 1% deferrals.
void defaultMatrix(ModelSpec& s) {
  size_t cells = static_cast<size_t>(s.gateways) * s.groups;
  s.latency_ms.assign(cells, 0);
  s.defer.assign(cells, 0);
  s.bounce.assign(cells, 0.002);
  s.connections.assign(cells, 40);
  s.gateway_cap.assign(s.gateways, 0);
  for (uint32_t g = 0; g < s.gateways; ++g) {
    for (uint32_t k = 0; k < s.groups; ++k) {
      uint32_t distance = (g + s.gateways - k % s.gateways) % s.gateways;
      s.latency_ms[s.cell(g, k)] = 10 + 40.0 * distance;
      s.defer[s.cell(g, k)] = 0.01 * distance;
    }
  }
}

std::vector<double> groupShares(const ModelSpec& s) {
  std::vector<double> shares = modelDomainShares(s);
  std::vector<uint16_t> groups = modelDomainGroups(s);
  std::vector<double> out(s.groups, 0);
  for (size_t d = 0; d < shares.size(); ++d) out[groups[d]] += shares[d];
  return out;
}

// The gateways for a group, fastest first (then fewer deferrals).
std::vector<uint32_t> byLatency(const ModelSpec& s, const std::vector<double>& latency, uint32_t k) {
  std::vector<uint32_t> order(s.gateways);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    double la = latency[s.cell(a, k)], lb = latency[s.cell(b, k)];
    return la != lb ? la < lb : s.defer[s.cell(a, k)] < s.defer[s.cell(b, k)];
  });
  return order;
}

// Greedy: the biggest domains first, each to the fastest gateway with room for its rate.
std::vector<int> greedyRoutes(const ModelSpec& s, const std::vector<double>& latency, const std::vector<bool>& excluded) {
  std::vector<double> shares = modelDomainShares(s);
  std::vector<uint16_t> groups = modelDomainGroups(s);
  std::vector<double> cell_room(latency.size()), gateway_room(s.gateways);
  for (uint32_t g = 0; g < s.gateways; ++g) {
    double cap = s.gateway_cap.empty() ? 0 : s.gateway_cap[g];
    gateway_room[g] = cap > 0 ? cap * kHeadroom : 1e18;
    for (uint32_t k = 0; k < s.groups; ++k) {
      size_t c = s.cell(g, k);
      double room = s.connections[c] * 1000.0 / (latency[c] + s.site_service_ms) * kHeadroom;
      if (s.change == ModelChange::kThrottled && k == s.change_group) room = std::min(room, s.throttle_per_second * kHeadroom);
      cell_room[c] = room;
    }
  }
  std::vector<uint32_t> order(s.domains);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return shares[a] > shares[b]; });
  std::vector<int> routes(s.domains, -1);
  for (uint32_t d : order) {
    double rate = shares[d] * s.rate;
    uint32_t k = groups[d];
    int pick = -1, roomiest = -1;
    for (uint32_t g : byLatency(s, latency, k)) {
      size_t c = s.cell(g, k);
      if (excluded[c]) continue;
      double room = std::min(cell_room[c], gateway_room[g]);
      if (roomiest < 0 || room > std::min(cell_room[s.cell(static_cast<uint32_t>(roomiest), k)], gateway_room[static_cast<uint32_t>(roomiest)])) {
        roomiest = static_cast<int>(g);
      }
      if (pick < 0 && room >= rate) pick = static_cast<int>(g);
    }
    if (pick < 0) pick = roomiest;
    if (pick < 0) continue;
    routes[d] = pick;
    cell_room[s.cell(static_cast<uint32_t>(pick), k)] -= rate;
    gateway_room[static_cast<uint32_t>(pick)] -= rate;
  }
  return routes;
}

}  // namespace

const std::vector<std::string>& modelScenarioNames() {
  static const std::vector<std::string> names = {"matrix", "loaded", "uneven", "heavy_tail", "drift",
                                                 "shift", "failure", "blocked", "throttled", "warming"};
  return names;
}

bool isModelScenario(const std::string& name) {
  return std::find(modelScenarioNames().begin(), modelScenarioNames().end(), name) != modelScenarioNames().end();
}

const std::vector<std::string>& modelPolicyNames() {
  static const std::vector<std::string> names = {"oracle", "ewma", "c3", "prequal", "peak_ewma_p2c",
                                                 "least_request_p2c", "round_robin", "random", "least_loaded"};
  return names;
}

std::vector<double> modelDomainShares(const ModelSpec& spec) {
  std::vector<uint32_t> rank(spec.domains);
  std::iota(rank.begin(), rank.end(), 0);
  ModelRandom shuffle(spec.seed ^ 0x5EEDull);
  for (size_t i = rank.size(); i > 1; --i) std::swap(rank[i - 1], rank[shuffle.next() % i]);
  std::vector<double> shares(spec.domains);
  double total = 0;
  for (uint32_t d = 0; d < spec.domains; ++d) {
    shares[d] = 1.0 / std::pow(static_cast<double>(rank[d]) + 1, spec.zipf);
    total += shares[d];
  }
  for (double& x : shares) x /= total;
  return shares;
}

std::vector<uint16_t> modelDomainGroups(const ModelSpec& spec) {
  std::vector<uint16_t> groups(spec.domains);
  for (uint32_t d = 0; d < spec.domains; ++d) {
    uint64_t key = spec.hash_groups ? mix(d + spec.seed * 7919) : d;
    groups[d] = static_cast<uint16_t>(key % spec.groups);
  }
  return groups;
}

ModelSpec modelScenario(const std::string& name, uint64_t seed, bool quick) {
  ModelSpec s;
  s.scenario = name;
  s.seed = seed;
  if (quick) {
    s.seconds = 5;
    s.rate = 1000;
  }
  if (name == "heavy_tail") {
    s.domains = 5000;
    s.zipf = 1.3;
    s.hash_groups = true;
  }
  defaultMatrix(s);
  s.change_at_s = s.seconds / 3;
  uint32_t k = s.change_group;
  std::vector<uint32_t> order = byLatency(s, s.latency_ms, k);
  if (name == "loaded") {
    // Every site shared by all gateways; the rate that runs the busiest at about 80%. More
    // connections per site, so that the site, not the gateways' connections, is what fills up.
    s.site_workers = 32;
    s.site_service_ms = 8;
    s.connections.assign(s.connections.size(), 64);
    std::vector<double> shares = groupShares(s);
    double busiest = *std::max_element(shares.begin(), shares.end());
    s.rate = 0.8 * s.site_workers * 1000.0 / s.site_service_ms / busiest;
  } else if (name == "uneven") {
    s.gateway_cap[0] = 400;
    for (uint32_t g = 0; g < s.groups; ++g) s.connections[s.cell(0, g)] = 10;
  } else if (name == "drift") {
    s.change = ModelChange::kDrift;
  } else if (name == "shift") {
    s.change = ModelChange::kShift;
    s.change_gateway = order[0];
    s.shift_to = order[1];
  } else if (name == "failure") {
    s.change = ModelChange::kFailure;
    s.change_gateway = order[0];
  } else if (name == "blocked") {
    s.change = ModelChange::kBlocked;
    s.change_gateway = order[0];
  } else if (name == "throttled") {
    // The site takes 40 a second from each gateway: the rate that fills three quarters of that.
    s.change = ModelChange::kThrottled;
    s.change_at_s = 0;
    s.rate = 0.75 * s.gateways * s.throttle_per_second / groupShares(s)[k];
  } else if (name == "warming") {
    s.change = ModelChange::kWarming;
    s.change_at_s = 0;
    s.change_gateway = order[0];
    s.warm_cap = static_cast<uint64_t>(0.1 * s.rate * s.seconds * groupShares(s)[k]);
  }
  return s;
}

ModelRoutes modelOracleRoutes(const ModelSpec& s) {
  ModelRoutes r;
  std::vector<bool> excluded(s.latency_ms.size(), false);
  uint32_t g = s.change_gateway, k = s.change_group;
  bool site_out = s.change == ModelChange::kBlocked || s.change == ModelChange::kWarming;
  if (s.change == ModelChange::kWarming) excluded[s.cell(g, k)] = true;
  r.before = greedyRoutes(s, s.latency_ms, excluded);
  if (s.change == ModelChange::kShift) {
    std::vector<double> after = s.latency_ms;
    std::swap(after[s.cell(g, k)], after[s.cell(s.shift_to, k)]);
    r.after = greedyRoutes(s, after, excluded);
  } else if (s.change == ModelChange::kFailure) {
    for (uint32_t group = 0; group < s.groups; ++group) excluded[s.cell(g, group)] = true;
    r.after = greedyRoutes(s, s.latency_ms, excluded);
  } else if (site_out) {
    excluded[s.cell(g, k)] = true;
    r.after = greedyRoutes(s, s.latency_ms, excluded);
  }
  return r;
}

ModelScenarioResult runModelScenario(const std::string& name, uint64_t seed, bool quick,
                                     const std::vector<std::string>& policies) {
  ModelScenarioResult out;
  out.spec = modelScenario(name, seed, quick);
  ModelWorld world(out.spec);
  ModelRoutes routes = modelOracleRoutes(out.spec);
  std::clock_t started = std::clock();
  for (const std::string& p : modelPolicyNames()) {
    if (!policies.empty() && std::find(policies.begin(), policies.end(), p) == policies.end()) continue;
    std::clock_t one = std::clock();
    SelectionPolicy policy = p == "oracle" ? SelectionPolicy::kFixed : *parseSelectionPolicy(p);
    out.results.push_back(world.run(policy, p, routes));
    out.results.back().cpu_seconds = static_cast<double>(std::clock() - one) / CLOCKS_PER_SEC;
  }
  out.cpu_seconds = static_cast<double>(std::clock() - started) / CLOCKS_PER_SEC;
  return out;
}

}  // namespace lbmail
