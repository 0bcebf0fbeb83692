// Gateway selection speed: decisions per second with 16 gateways and 10,000 domains in the
// delivery-time table, every entry filled. Target: at least 10 million ewma decisions per second
// on one core. Beside it in the same run, the round-robin policy (no table reads) as the floor,
// one table update (a RESULT) for scale, and each rival (c3, prequal, peak_ewma_p2c,
// least_request_p2c) with its feedback: every decision's answer comes back and prequal's probes
// are answered, so each is measured in the state it runs in.
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_summary.h"
#include "lbmail/routing/gateway_selector.h"

namespace {

using namespace lbmail;

constexpr size_t kGateways = 16;
constexpr uint32_t kDomains = 10000;
constexpr uint32_t kSites = 1000;

DeliveryTimeTable& filledTable() {
  static DeliveryTimeTable table = [] {
    DeliveryTimeTable t(kGateways, std::chrono::seconds(30));
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> ms(50, 2000);
    for (uint32_t d = 0; d < kDomains; ++d) {
      uint32_t id = t.domainId("domain" + std::to_string(d) + ".example");
      t.setSite(id, d % kSites);  // every domain on a site, as once the gateways have named them
      for (size_t g = 0; g < kGateways; ++g) t.recordDelivery(g, id, ms(rng), 1000 + d);
    }
    return t;
  }();
  return table;
}

std::vector<GatewayLoad> loads() {
  std::vector<GatewayLoad> l(kGateways);
  // In flight from 0 to 30, so that most gateways are beyond their concurrency (10) and pay
  // the backlog's wait.
  for (size_t g = 0; g < kGateways; ++g) l[g] = GatewayLoad{true, 1000, 2 * g};
  return l;
}

// 4,096 domains drawn from the table's, the same in every run.
std::vector<uint32_t> randomDomains() {
  std::vector<uint32_t> domains(4096);
  std::mt19937 rng(5);
  for (uint32_t& d : domains) d = rng() % kDomains;
  return domains;
}

void decide(benchmark::State& state) {
  SelectorSettings s;
  s.policy = static_cast<SelectionPolicy>(state.range(0));
  GatewaySelector selector(filledTable(), s);
  std::vector<GatewayLoad> l = loads();
  std::vector<uint32_t> domains = randomDomains();
  size_t i = 0;
  uint64_t now = 100000;
  for (auto _ : state) {
    int g = selector.choose(domains[i++ & 4095], l, now);
    benchmark::DoNotOptimize(g);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(selectionPolicyName(s.policy)));
}

// A rival's decision with what it learns from: the SEND is reported and the chosen gateway
// answers at once (response
// 50 + 10·g ms, service 5 ms less, queue g mod 4), each due probe is answered (RIF and latency
// from the gateway's profile), and the clock moves 1 ms every 4 decisions (C3's rate tokens
// refill as they would at 4,000 decisions a second). Per decision, the feedback included.
void decideRival(benchmark::State& state) {
  SelectorSettings s;
  s.policy = static_cast<SelectionPolicy>(state.range(0));
  GatewaySelector selector(filledTable(), s);
  std::vector<GatewayLoad> l = loads();
  std::vector<uint32_t> domains = randomDomains();
  uint64_t i = 0;
  for (auto _ : state) {
    uint64_t now = 100000 + i / 4;
    uint32_t d = domains[i++ & 4095];
    int g = selector.choose(d, l, now);
    if (g >= 0) {
      double ms = 50.0 + 10.0 * g;
      selector.sent(static_cast<size_t>(g), d, now);
      selector.answered(static_cast<size_t>(g), d, GatewayAnswer{ms, ms - 5, static_cast<uint64_t>(g % 4)}, now);
    }
    for (size_t p : selector.probesDue(now)) {
      selector.probed(p, ProbeAnswer{l[p].in_flight, 50.0 + 10.0 * static_cast<double>(p)}, now);
    }
    benchmark::DoNotOptimize(g);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(selectionPolicyName(s.policy)));
}

void recordResult(benchmark::State& state) {
  DeliveryTimeTable& t = filledTable();
  uint64_t now = 200000;
  size_t i = 0;
  for (auto _ : state) {
    t.recordDelivery(i % kGateways, static_cast<uint32_t>(i % kDomains), 420.0, now + i);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(decide)->Arg(static_cast<int>(SelectionPolicy::kEwma))->Arg(static_cast<int>(SelectionPolicy::kRoundRobin));
BENCHMARK(decideRival)
    ->Arg(static_cast<int>(SelectionPolicy::kC3))
    ->Arg(static_cast<int>(SelectionPolicy::kPrequal))
    ->Arg(static_cast<int>(SelectionPolicy::kPeakEwmaP2c))
    ->Arg(static_cast<int>(SelectionPolicy::kLeastRequestP2c));
BENCHMARK(recordResult);

void summarise(const perf::Runs& runs) {
  for (const auto& r : runs) {
    if (r.run_name.str() != "decide/0" || r.iterations == 0) continue;
    double per_second = 1e9 / r.GetAdjustedCPUTime();
    std::printf(
        "\nselection_bench summary: ewma, 16 gateways x 10,000 domains: %.1f M decisions/s per core "
        "(target >= 10) %s\n",
        per_second / 1e6, per_second >= 10e6 ? "met" : "NOT MET");
    break;
  }
  // One line per rival: the median with --benchmark_repetitions, else the run.
  using Run = benchmark::BenchmarkReporter::Run;
  std::map<std::string, std::pair<std::string, double>> rivals;  // run name → label, ns
  for (const auto& r : runs) {
    if (!r.run_name.str().starts_with("decideRival/")) continue;
    bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
    bool single = r.run_type == Run::RT_Iteration && r.iterations > 0 && !rivals.contains(r.run_name.str());
    if (median || single) rivals[r.run_name.str()] = {r.report_label, r.GetAdjustedCPUTime()};
  }
  for (const auto& [name, rival] : rivals) {
    std::printf("selection_bench summary: %s, with its feedback: %.0f ns per decision\n", rival.first.c_str(),
                rival.second);
  }
}

[[maybe_unused]] const bool kRegistered = perf::setSummary(summarise);

}  // namespace
