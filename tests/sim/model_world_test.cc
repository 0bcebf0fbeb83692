// The sim's model world (src/sim/model_*): reproducible by seed, every message accounted for in
// every scenario, each scenario's change visible in what the policies do, the oracle's routes,
// the report's targets, and `lbmail sim --scenario` running the model end to end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "child_process.h"
#include "model_report.h"
#include "model_scenarios.h"
#include "sim_config.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

ModelScenarioResult quickRun(const std::string& scenario, std::vector<std::string> policies, uint64_t seed = 1) {
  return runModelScenario(scenario, seed, true, policies);
}

const ModelResult& result(const ModelScenarioResult& s, const std::string& policy) {
  const ModelResult* r = modelResult(s, policy);
  EXPECT_NE(r, nullptr) << policy;
  static const ModelResult none;
  return r ? *r : none;
}

TEST(ModelWorld, SameSeedSameRunOtherSeedOtherRun) {
  ModelScenarioResult a = quickRun("drift", {"ewma", "random"}, 7);
  ModelScenarioResult b = quickRun("drift", {"ewma", "random"}, 7);
  ModelScenarioResult c = quickRun("drift", {"ewma", "random"}, 8);
  ASSERT_EQ(a.results.size(), 2u);
  for (size_t i = 0; i < a.results.size(); ++i) {
    EXPECT_EQ(a.results[i].messages, b.results[i].messages);
    EXPECT_EQ(a.results[i].delivered, b.results[i].delivered);
    EXPECT_EQ(a.results[i].decisions, b.results[i].decisions);
    EXPECT_DOUBLE_EQ(a.results[i].mean_ms, b.results[i].mean_ms);
    EXPECT_DOUBLE_EQ(a.results[i].p99_ms, b.results[i].p99_ms);
    EXPECT_NE(a.results[i].mean_ms, c.results[i].mean_ms);
  }
  // Every policy sees the same arrivals.
  EXPECT_EQ(a.results[0].messages, a.results[1].messages);
}

// Every message ends delivered, bounced or failed, in every scenario, for every policy (those
// that hold messages back, like c3 for its rate tokens, included).
TEST(ModelWorld, EveryMessageIsAccountedForInEveryScenario) {
  for (const std::string& scenario : modelScenarioNames()) {
    ModelScenarioResult s = quickRun(scenario, {});
    ASSERT_EQ(s.results.size(), modelPolicyNames().size()) << scenario;
    for (const ModelResult& r : s.results) {
      SCOPED_TRACE(scenario + " " + r.policy);
      EXPECT_GT(r.messages, 1000u);
      EXPECT_EQ(r.delivered + r.bounced + r.failed, r.messages);
      EXPECT_EQ(r.lost, 0u);
      EXPECT_EQ(r.unfinished, 0u);
      EXPECT_GT(r.delivered, r.messages * 95 / 100);
      EXPECT_GE(r.attempts, r.messages);
      EXPECT_LE(r.p50_ms, r.p99_ms);
      EXPECT_GT(r.throughput, 0);
    }
  }
}

TEST(ModelWorld, OracleBeatsRoundRobinOnTheDefaultWorld) {
  ModelScenarioResult s = quickRun("matrix", {"oracle", "round_robin"});
  const ModelResult& oracle = result(s, "oracle");
  const ModelResult& rr = result(s, "round_robin");
  // The near gateway is 10 ms away, the others 50 and 90: the oracle's messages take ~10 ms.
  EXPECT_LT(oracle.mean_ms, 12);
  EXPECT_LT(oracle.mean_ms * 3, rr.mean_ms);
  EXPECT_EQ(oracle.switches_per_domain_minute, 0);
  EXPECT_GT(rr.switches_per_domain_minute, 5);
}

TEST(ModelWorld, FailureResendsWhatTheDeadGatewayHadAndLosesNothing) {
  ModelScenarioResult s = quickRun("failure", {"oracle", "ewma", "round_robin"});
  for (const ModelResult& r : s.results) {
    SCOPED_TRACE(r.policy);
    EXPECT_GT(r.resent, 0u);
    EXPECT_EQ(r.lost, 0u);
    // Nothing goes to the dead gateway once the link is known down (after failover_ms).
    EXPECT_GE(r.rebalanced_ms, s.spec.failover_ms);
    EXPECT_LT(r.rebalanced_ms, s.spec.failover_ms + 100);
  }
  ModelScenarioResult none = quickRun("matrix", {"round_robin"});
  EXPECT_EQ(result(none, "round_robin").resent, 0u);
}

TEST(ModelWorld, BlockedThrottledAndWarmingRefuseAndReroute) {
  // Blocked: each recipient is refused by gateway 1 once at most and delivered through another.
  ModelScenarioResult blocked = quickRun("blocked", {"oracle", "round_robin"});
  EXPECT_GT(result(blocked, "round_robin").refusals, 100u);
  EXPECT_EQ(result(blocked, "round_robin").bounced_policy, 0u);
  // The oracle is told at the change: only what it had on the way then is refused.
  EXPECT_LT(result(blocked, "oracle").refusals, 20u);
  // Throttled: a policy that keeps group 1 on its fastest gateway runs into the 421s; the oracle
  // spreads it under the limit.
  ModelScenarioResult throttled = quickRun("throttled", {"oracle", "least_loaded"});
  EXPECT_GT(result(throttled, "least_loaded").refusals, 10u);
  EXPECT_LT(result(throttled, "oracle").refusals * 5, result(throttled, "least_loaded").refusals);
  // Warming: the first REJECT leaves gateway 1 out for the site; what was in flight is all
  // that comes back refused.
  ModelScenarioResult warming = quickRun("warming", {"oracle", "round_robin"});
  EXPECT_GE(result(warming, "round_robin").refusals, 1u);
  EXPECT_LT(result(warming, "round_robin").refusals, warming.spec.credit);
  EXPECT_EQ(result(warming, "oracle").refusals, 0u);
  EXPECT_EQ(result(quickRun("matrix", {"round_robin"}), "round_robin").refusals, 0u);
}

TEST(ModelWorld, ShiftIsMeasuredByWhoFollowsIt) {
  ModelScenarioResult s = quickRun("shift", {"oracle"});
  // The oracle is told at once: its next window's SENDs go to the new best.
  EXPECT_GE(result(s, "oracle").shift_ms, 0);
  EXPECT_LE(result(s, "oracle").shift_ms, 200);
  // Without the shift the oracle keeps group 1 where it was: the new best never gets most.
  EXPECT_EQ(result(quickRun("matrix", {"oracle"}), "oracle").shift_ms, -1);
}

TEST(ModelWorld, ScenariosChangeTheWorld) {
  ModelSpec matrix = modelScenario("matrix", 1, false);
  EXPECT_EQ(matrix.rate, 3000);
  EXPECT_EQ(matrix.seconds, 20);
  EXPECT_EQ(modelScenario("matrix", 1, true).seconds, 5);
  EXPECT_EQ(modelScenario("heavy_tail", 1, false).domains, 5000u);
  ModelSpec loaded = modelScenario("loaded", 1, false);
  EXPECT_EQ(loaded.site_workers, 32u);
  EXPECT_GT(loaded.rate, matrix.rate);
  // Loaded sites add their service time (and waits) to every delivery.
  ModelScenarioResult a = quickRun("matrix", {"oracle"}), b = quickRun("loaded", {"oracle"});
  EXPECT_GT(result(b, "oracle").p50_ms, result(a, "oracle").p50_ms + 5);
  ModelScenarioResult d = quickRun("drift", {"oracle"});
  EXPECT_NE(result(d, "oracle").mean_ms, result(a, "oracle").mean_ms);
  // Uneven: gateway 0 cannot take groups 0 and 3 alone; the oracle sends part of them elsewhere.
  ModelSpec uneven = modelScenario("uneven", 1, false);
  ModelRoutes routes = modelOracleRoutes(uneven);
  std::vector<uint16_t> groups = modelDomainGroups(uneven);
  size_t elsewhere = 0;
  for (size_t i = 0; i < routes.before.size(); ++i) elsewhere += groups[i] % 3 == 0 && routes.before[i] != 0;
  EXPECT_GT(elsewhere, 0u);
  EXPECT_EQ(modelOracleRoutes(matrix).before[5], 5 % 4 % 3);
  // Failure and blocked: the oracle's routes after the change avoid the gateway.
  ModelSpec failure = modelScenario("failure", 1, false);
  for (int g : modelOracleRoutes(failure).after) EXPECT_NE(g, static_cast<int>(failure.change_gateway));
}

TEST(ModelReport, TargetsPassAndFailAndTheReportIsJson) {
  ModelScenarioResult s;
  s.spec = modelScenario("matrix", 1, true);
  ModelResult oracle, ewma, c3;
  oracle.policy = "oracle";
  oracle.mean_ms = 10;
  oracle.p99_ms = 20;
  ewma.policy = "ewma";
  ewma.mean_ms = 10.4;
  ewma.p99_ms = 40;  // 2x the oracle's: fails
  ewma.switches_per_domain_minute = 1;
  c3.policy = "c3";
  c3.mean_ms = 11;
  c3.p99_ms = 45;
  for (ModelResult* r : {&oracle, &ewma, &c3}) r->delivered = 100;
  // A rival that delivered nothing has no delivery times: it is not the best, it is nothing.
  ModelResult prequal;
  prequal.policy = "prequal";
  s.results = {oracle, ewma, c3, prequal};
  ModelReport report({s}, 1.5);
  std::map<std::string, bool> met;
  for (const ModelTarget& t : report.targets()) met[t.name] = t.met;
  EXPECT_TRUE(met.at("ewma mean / oracle's"));
  EXPECT_FALSE(met.at("ewma p99 / oracle's"));
  EXPECT_TRUE(met.at("ewma mean / best rival's (c3)"));
  EXPECT_TRUE(met.at("ewma switches per domain-minute"));
  EXPECT_FALSE(report.met());
  EXPECT_NE(report.text().find("target ewma p99 / oracle's: 2 (at most 1.5) FAIL"), std::string::npos) << report.text();
  test::Validation v = test::validateDocument("json", report.json());
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_NE(report.html().find("<svg"), std::string::npos);
  // Nor does an ewma that delivered nothing pass a ratio target on its zero times.
  s.results[1].delivered = 0;
  s.results[1].mean_ms = 0;
  s.results[1].p99_ms = 0;
  ModelReport none({s}, 1.5);
  for (const ModelTarget& t : none.targets()) {
    if (t.name.starts_with("ewma mean") || t.name.starts_with("ewma p99")) {
      EXPECT_FALSE(t.met) << t.name;
    }
  }
}

TEST(ModelConfig, AllIsTheModelLiveIsTheProcesses) {
  EXPECT_EQ(*parseScenarios("all"), modelScenarioNames());
  EXPECT_EQ(*parseScenarios("live"), (std::vector<std::string>{"default", "blocklist", "throttle", "warmup"}));
  EXPECT_EQ(*parseScenarios("shift,default"), (std::vector<std::string>{"shift", "default"}));
  EXPECT_FALSE(parseScenarios("matrx"));
  EXPECT_TRUE(validModelPolicy("oracle"));
  EXPECT_TRUE(validModelPolicy("c3"));
  EXPECT_FALSE(validModelPolicy("fixed"));
}

// `lbmail sim --scenario` with model scenarios only: no processes, the table, both report files.
TEST(ModelSim, QuickModelRunPrintsTheTableAndWritesTheReport) {
  std::string work = test::tempPath("sim-model");
  std::filesystem::remove_all(work);
  std::string config = test::tempPath("sim-model.toml");
  std::ofstream(config) << "[admin]\nlisten = \"127.0.0.1:0\"\n[sim]\nwork_dir = \"" << work << "\"\n";
  test::ChildProcess sim({test::testEnv("LBMAIL_BINARY"), "sim", "-c", config, "--quick", "--scenario",
                          "matrix,failure", "--policies", "ewma,round_robin"});
  int code = test::exitCode(sim.wait(std::chrono::seconds(120)));
  // Exit 1 only for a missed target; the run itself must not fail.
  ASSERT_TRUE(code == 0 || code == 1) << code << sim.err();
  EXPECT_NE(sim.out().find("model matrix: 3 policies"), std::string::npos) << sim.out();
  EXPECT_NE(sim.out().find("  oracle "), std::string::npos) << sim.out();
  EXPECT_NE(sim.out().find("target messages lost (every policy): 0"), std::string::npos) << sim.out();
  EXPECT_TRUE(std::filesystem::exists(work + "/model-report.html"));
  std::string script =
      "import json,sys\nr=json.load(open(sys.argv[1]))\n"
      "assert [s['scenario'] for s in r['scenarios']]==['matrix','failure'], r\n"
      "for s in r['scenarios']:\n"
      "  assert [p['policy'] for p in s['policies']]==['oracle','ewma','round_robin'], s\n"
      "  for p in s['policies']: assert p['delivered']+p['bounced']+p['failed']==p['messages'], p\n"
      "assert (r['targets_met'] is True)==all(t['met'] for t in r['targets'])\n"
      "print('ok')\n";
  test::ChildProcess check({test::testEnv("LBMAIL_PYTHON"), "-c", script, work + "/model-report.json"});
  EXPECT_EQ(test::exitCode(check.wait()), 0) << check.err() << check.out();
  EXPECT_EQ(check.out(), "ok\n");
  // No process world was built for model scenarios alone.
  EXPECT_FALSE(std::filesystem::exists(work + "/logs"));
}

// The targets, at the default size and seed (the run docs/simulation.md reports; a
// few seconds, and the same result on every build: the model runs on its own clock). Every
// scenario, every policy: ewma within 5% of the oracle's mean and 1.5x its p99 on the matrix,
// no worse than the best rival's mean and p99 (3% margin) everywhere, the shift followed within
// 2 s, nothing lost when a gateway dies. A change to the selector that loses one fails here.
TEST(ModelSim, EveryTargetHoldsAtTheDefaultSize) {
  if (LBMAIL_SANITIZED) GTEST_SKIP() << "the plain build checks the figures; the quick model test runs the same code";
  std::string work = test::tempPath("sim-model-all");
  std::filesystem::remove_all(work);
  std::string config = test::tempPath("sim-model-all.toml");
  std::ofstream(config) << "[admin]\nlisten = \"127.0.0.1:0\"\n[sim]\nwork_dir = \"" << work << "\"\n";
  test::ChildProcess sim({test::testEnv("LBMAIL_BINARY"), "sim", "-c", config, "--scenario", "all"});
  int code = test::exitCode(sim.wait(std::chrono::seconds(240)));
  EXPECT_EQ(code, 0) << sim.out() << sim.err();
  EXPECT_NE(sim.out().find("model targets: 26 of 26 met"), std::string::npos) << sim.out();
  for (const char* scenario : {"matrix", "loaded", "uneven", "heavy_tail", "drift", "shift", "failure", "blocked",
                               "throttled", "warming"}) {
    EXPECT_NE(sim.out().find(std::string("model ") + scenario + " ("), std::string::npos) << scenario;
  }
}

}  // namespace
}  // namespace lbmail
