// The simulation: its configuration, and `lbmail sim --quick` run for real (dnsmasq, sinks,
// gateways and initiators as processes on loopback) with its report checked: every recipient
// accounted for in every run, ewma ahead of round-robin, and the HTML report rendered by
// headless Chromium.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.h"
#include "chromium_page.h"
#include "sim_config.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

std::string exampleConfig() { return test::testEnv("LBMAIL_SOURCE_ROOT") + "/configs/sim.toml"; }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The example with its work folder and admin port moved to the test's own.
std::string testConfig(const std::string& work_dir, const std::string& extra = "") {
  std::string body = readFile(exampleConfig());
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = body.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    body.replace(at, from.size(), to);
  };
  replace("work_dir = \"sim-out\"", "work_dir = \"" + work_dir + "\"");
  replace("listen = \"127.0.0.1:9103\"", "listen = \"127.0.0.1:0\"");
  std::string path = test::tempPath("sim-" + std::to_string(std::hash<std::string>()(work_dir)) + ".toml");
  std::ofstream(path) << body << extra;
  return path;
}

TEST(SimConfig, ExampleLoadsWithTheDefaultMatrix) {
  auto c = loadSimConfig(exampleConfig());
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->sim.gateways, 3u);
  EXPECT_EQ(c->sim.groups, 4u);
  EXPECT_EQ(c->sim.recipients, 100000u);
  ASSERT_EQ(c->sim.matrix.size(), 12u);
  // Group k is nearest gateway k mod 3.
  for (uint32_t k = 0; k < 4; ++k) EXPECT_EQ(fastestGateway(c->sim.matrix, k), k % 3) << k;
  EXPECT_EQ(c->service.admin.listen.port(), defaultAdminPort(Mode::kSim));
}

// The rivals from the literature (issue 22) run as the initiators' policies too.
TEST(SimConfig, PoliciesNameTheRivals) {
  std::string path = test::tempPath("sim-rivals.toml");
  std::ofstream(path) << "[sim]\npolicies = [\"c3\", \"prequal\", \"peak_ewma_p2c\", \"least_request_p2c\"]\n";
  auto c = loadSimConfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->sim.policies, (std::vector<std::string>{"c3", "prequal", "peak_ewma_p2c", "least_request_p2c"}));
}

TEST(SimConfig, MistakesAreNamed) {
  std::string path = test::tempPath("sim-bad.toml");
  auto load = [&](const std::string& text) {
    std::ofstream(path) << text;
    auto c = loadSimConfig(path);
    return c ? std::string() : c.error();
  };
  EXPECT_NE(load("[sim]\npolicies = [\"ewma\", \"fastest\"]\n").find("sim.policies: expected policies from"),
            std::string::npos);
  EXPECT_NE(load("[sim]\ngateways = 2\ngroups = 1\n[[sim.latency]]\ngateway = 1\ngroup = 1\n")
                .find("sim.latency: expected one [[sim.latency]] per (gateway, group)"),
            std::string::npos);
  EXPECT_NE(load("[sim]\n[[sim.latency]]\ngateway = 4\n").find("sim.latency.gateway: expected a gateway number"),
            std::string::npos);
  EXPECT_NE(load("[sim]\n[[sim.latency]]\ndata_latency = \"fast\"\n").find("sim.latency.data_latency"),
            std::string::npos);
  EXPECT_NE(load("[sim]\ndomains = 2\ngroups = 4\n").find("sim.domains: expected at least as many domains"),
            std::string::npos);
  EXPECT_NE(load("[sim]\nrecipeints = 5\n").find("unknown key"), std::string::npos);
  EXPECT_NE(load("[sim]\npolicies = [\"ewma\", \"ewma\"]\n").find("sim.policies: expected each policy once"),
            std::string::npos);
  EXPECT_NE(load("[sim]\nreceiver = \"localhost\"\n").find("sim.receiver: expected an address with a port"),
            std::string::npos);
}

TEST(SimConfig, ScenariosAreNamedOrLive) {
  std::string path = test::tempPath("sim-scenarios.toml");
  std::ofstream(path) << "[sim]\nscenarios = [\"throttle\", \"live\"]\nblock_after = \"3s\"\nshaping = false\n";
  auto c = loadSimConfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->sim.scenarios, (std::vector<std::string>{"throttle", "default", "blocklist", "warmup"}));
  EXPECT_EQ(c->sim.block_after, Duration(std::chrono::seconds(3)));
  EXPECT_FALSE(c->sim.shaping);
  EXPECT_EQ(loadSimConfig(exampleConfig())->sim.scenarios, std::vector<std::string>{"default"});
  std::ofstream(path) << "[sim]\nscenarios = [\"blocklst\"]\n";
  auto bad = loadSimConfig(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("sim.scenarios: expected scenarios from"), std::string::npos) << bad.error();
  EXPECT_FALSE(parseScenarios("warmup,nope"));
  EXPECT_EQ(*parseScenarios("warmup,blocklist"), (std::vector<std::string>{"warmup", "blocklist"}));
}

// The example for the scenarios, with [shaping] in the gateways (shaping = true).
std::string scenarioConfig(const std::string& work) {
  std::string config = testConfig(work);
  EXPECT_NE(readFile(config).find("shaping = true"), std::string::npos);
  return config;
}

// The blocklist scenario with real processes: group 1's sink refuses gateway 1 with a Spamhaus
// 554 5.7.1 from block_after on (the sinks' refusal logs name each recipient); the report has each gateway's share of every group second by
// second, the refused recipients and how they ended, the sinks' counts, and the targets.
// With the gateways' shaping, the block suspends gateway 1 for group 1's site: both targets met.
// The scenarios' targets are about time (shares per second, 421s per window, throughput) in a
// paced world: under the sanitizers every process runs several times slower and a run would not
// fit its bound. They run in the plain build of the same CI (.ci/run, step 1).
#define SKIP_PACED_SCENARIOS_WHEN_SANITIZED() \
  if (LBMAIL_SANITIZED) GTEST_SKIP() << "paced scenario: timing targets run in the plain build"

TEST(Sim, BlocklistScenarioReportsSharesRefusalsAndTargets) {
  SKIP_PACED_SCENARIOS_WHEN_SANITIZED();
  std::string work = test::tempPath("sim-blocklist");
  std::filesystem::remove_all(work);
  std::string config = scenarioConfig(work);
  test::ChildProcess sim(
      {test::testEnv("LBMAIL_BINARY"), "sim", "-c", config, "--quick", "--scenario", "blocklist", "--policies", "ewma"});
  int code = test::exitCode(sim.wait(std::chrono::seconds(150)));
  ASSERT_EQ(code, 0) << sim.err().substr(sim.err().size() > 6000 ? sim.err().size() - 6000 : 0);
  EXPECT_NE(sim.out().find("blocklist-ewma: gateway 1's share of group 1 from 7 s on < 1%"), std::string::npos)
      << sim.out();
  std::string script =
      "import json,sys\nr=json.load(open(sys.argv[1]))\nruns={x['name']:x for x in r['runs']}\n"
      "assert set(runs)=={'blocklist-oracle','blocklist-ewma'}, runs.keys()\n"
      "for x in r['runs']:\n"
      "  assert x['scenario']=='blocklist' and x['accounted']==6000, x['name']\n"
      "  assert len(x['share_over_time'])==4 and len(x['sink'])==4, x['name']\n"
      "  assert sum(sum(map(sum,g)) for g in x['share_over_time'])==x['delivered'], x['name']\n"
      "  assert sum(c['accepted'] for g in x['sink'] for c in g)==x['delivered'], x['name']\n"
      "  f=x['refused']\n"
      "  assert f['recipients']==f['delivered_elsewhere']+f['delivered_same']+f['bounced']+f['failed']+f['deferred']"
      "+f['bounced_mailbox']\n"
      "  assert f['replies']>=f['recipients'] and x['refused_421']==0, x['name']\n"
      // The oracle knows the block: none of group 1 through gateway 1. ewma learns it: group 1's
      // sink took gateway 1's mail before the block and refused some after it, by policy.
      "o=runs['blocklist-oracle']\ne=runs['blocklist-ewma']\n"
      "assert o['refused']['recipients']==0 and sum(s[0] for s in o['share_over_time'][0])==0, o['refused']\n"
      "assert e['refused']['recipients']>0 and e['sink'][0][0]['accepted']>0, e['refused']\n"
      "assert sum(s[0] for s in e['share_over_time'][0][:2])>0, e['share_over_time'][0][:3]\n"
      "t=r['scenario_targets']\n"
      "assert sorted(x['run'] for x in t)==['blocklist-ewma']*2+['blocklist-oracle']*2, t\n"
      "assert all(isinstance(x['met'],bool) and x['value']>=0 for x in t), t\n"
      "lost=[x for x in t if x['run']=='blocklist-ewma' and 'lost' in x['target']][0]\n"
      "assert lost['value']==e['refused']['bounced']+e['refused']['failed'], lost\n"
      "assert all(x['met'] for x in t), t\n"
      "print('ok')\n";
  test::ChildProcess check({test::testEnv("LBMAIL_PYTHON"), "-c", script, work + "/report.json"});
  EXPECT_EQ(test::exitCode(check.wait()), 0) << check.err() << check.out();
  EXPECT_EQ(check.out(), "ok\n");
}

// Throttle and warmup with real processes: group 1's sink answers over 40 messages a second per
// client with Gmail's 421 4.7.28 (the oracle's gateways know the limit), gateway 1 has a warm-up
// cap, and one ewma run has none. The report carries the sinks' 421s and each gateway's count per
// group's sink, and the targets of both.
// With the gateways' shaping, the cap holds. The 421s after adaptation (0.7% to 2.4% of MAILs
// here) and the throughput targets need the initiator's part of issue 20 as well.
TEST(Sim, ThrottleAndWarmupScenariosReport421sCapsAndTargets) {
  SKIP_PACED_SCENARIOS_WHEN_SANITIZED();
  std::string work = test::tempPath("sim-throttle");
  std::filesystem::remove_all(work);
  std::string config = scenarioConfig(work);
  test::ChildProcess sim({test::testEnv("LBMAIL_BINARY"), "sim", "-c", config, "--quick", "--scenario",
                          "throttle,warmup", "--policies", "ewma"});
  int code = test::exitCode(sim.wait(std::chrono::seconds(300)));
  ASSERT_EQ(code, 0) << sim.err().substr(sim.err().size() > 6000 ? sim.err().size() - 6000 : 0);
  std::string script =
      "import json,sys\nr=json.load(open(sys.argv[1]))\nruns={x['name']:x for x in r['runs']}\n"
      "assert set(runs)=={'throttle-oracle','throttle-ewma','warmup-oracle','warmup-ewma','warmup-ewma-uncapped'}\n"
      "for x in r['runs']:\n"
      "  assert x['accounted']==6000 and x['refused']['recipients']==0, x['name']\n"
      "  assert sum(c['accepted'] for g in x['sink'] for c in g)==x['delivered'], x['name']\n"
      "  assert x['refused_421']==sum(c['refused_421'] for g in x['sink'] for c in g), x['name']\n"
      // Only group 1's sink limits; ewma meets the limit at least at first.
      "assert all(c['refused_421']==0 for g in runs['throttle-ewma']['sink'][1:] for c in g)\n"
      "assert runs['throttle-ewma']['refused_421']>0, runs['throttle-ewma']['sink'][0]\n"
      "assert runs['warmup-ewma-uncapped']['capped'] is False and runs['warmup-ewma']['capped'] is True\n"
      // The warmup oracle knows the cap: nothing through gateway 1.
      "assert all(g[0]['accepted']==0 for g in runs['warmup-oracle']['sink']), runs['warmup-oracle']['sink']\n"
      "t={}\n"
      "for x in r['scenario_targets']: t.setdefault(x['run'],[]).append(x)\n"
      "assert [len(t.get(n,[])) for n in ['throttle-oracle','throttle-ewma','warmup-oracle','warmup-ewma',"
      "'warmup-ewma-uncapped']]==[1,2,1,2,0], t\n"
      "cap=[x for x in t['warmup-ewma'] if 'cap' in x['target']][0]\n"
      "assert cap['value']==max(g[0]['accepted'] for g in runs['warmup-ewma']['sink']) and cap['met'], cap\n"

      "print('ok')\n";
  test::ChildProcess check({test::testEnv("LBMAIL_PYTHON"), "-c", script, work + "/report.json"});
  EXPECT_EQ(test::exitCode(check.wait()), 0) << check.err() << check.out();
  EXPECT_EQ(check.out(), "ok\n");
}

TEST(Sim, QuickRunAccountsForEveryRecipientAndEwmaBeatsRoundRobin) {
  std::string work = test::tempPath("sim-quick");
  std::filesystem::remove_all(work);
  test::ChildProcess sim({test::testEnv("LBMAIL_BINARY"), "sim", "-c", testConfig(work), "--quick"});
  int code = test::exitCode(sim.wait(std::chrono::seconds(120)));
  ASSERT_EQ(code, 0) << sim.err().substr(sim.err().size() > 6000 ? sim.err().size() - 6000 : 0);
  EXPECT_NE(sim.out().find("every recipient accounted for in every run: yes"), std::string::npos) << sim.out();

  // The report, read back with Python's json module (it is for other programs too).
  std::string script =
      "import json,sys\nr=json.load(open(sys.argv[1]))\nruns={x['name']:x for x in r['runs']}\n"
      "assert r['complete'] is True\n"
      "assert set(runs)=={'oracle','ewma','round_robin','ewma-shift'}, runs.keys()\n"
      "for x in r['runs']:\n"
      "  assert x['finished'] and x['accounted']==x['recipients']==6000, x['name']\n"
      "  assert x['delivered']+x['bounced']+x['failed']==6000, x['name']\n"
      "  assert x['smtp_bytes']>x['delivered']*20000 and 0<x['link_bytes']<x['smtp_bytes']/50, x['name']\n"
      "  assert sum(sum(g) for g in x['group_share'])==x['delivered'], x['name']\n"
      "assert all(s==0 for s in runs['oracle']['group_share'][0][1:]), runs['oracle']['group_share']\n"
#if !LBMAIL_SANITIZED
      // Delivery times compared: under the sanitizers the processes run several times slower and
      // the quick runs' timings are too noisy for it (ewma / round_robin is about 0.5 without).
      "assert runs['ewma']['delivery_ms']['mean']<runs['round_robin']['delivery_ms']['mean'], r['targets']\n"
      "assert r['targets']['ewma_over_round_robin']<1\n"
#endif
      "print('ok')\n";
  test::ChildProcess check({test::testEnv("LBMAIL_PYTHON"), "-c", script, work + "/report.json"});
  EXPECT_EQ(test::exitCode(check.wait()), 0) << check.err() << check.out();
  EXPECT_EQ(check.out(), "ok\n");

  // Nothing is left running: every child's log ends with its exit.
  for (const auto& entry : std::filesystem::directory_iterator(work + "/logs")) {
    std::string log = readFile(entry.path());
    if (entry.path().filename().string().find("dnsmasq") != std::string::npos) continue;
    EXPECT_NE(log.find("event=process.exit code=0"), std::string::npos) << entry.path();
  }
  EXPECT_NE(sim.err().find("event=sim.child_exited child=dnsmasq"), std::string::npos);

  // The HTML report opens in a browser: the runs table and the charts are there.
  if (test::chromiumPath().empty()) GTEST_FAIL() << "chromium is not installed (scripts/install-deps installs it)";
  auto dom = test::renderedDom("file://" + work + "/report.html", std::chrono::seconds(30));
  ASSERT_TRUE(dom);
  EXPECT_NE(dom->find("<table id=\"runs\">"), std::string::npos);
  for (const char* run : {"oracle", "ewma", "round_robin", "ewma-shift"}) {
    EXPECT_NE(dom->find(std::string("data-run=\"") + run + "\""), std::string::npos) << run;
  }
  size_t charts = 0;
  for (size_t at = dom->find("<svg class=\"chart"); at != std::string::npos;
       at = dom->find("<svg class=\"chart", at + 1)) {
    ++charts;
  }
  EXPECT_GE(charts, 2u + 4u + 1u) << "two bar charts, one share chart per run, the shift";
}

TEST(Sim, WithTlsEveryMessageReachesTheSinksOverStartTls) {
  std::string work = test::tempPath("sim-tls");
  std::filesystem::remove_all(work);
  // One ewma run is enough here.
  std::string config = readFile(testConfig(work));
  for (auto [from, to] : {std::pair<std::string, std::string>{"tls = false", "tls = true"},
                          {"oracle = true", "oracle = false"},
                          {"shift = true", "shift = false"},
                          {"policies = [\"ewma\", \"round_robin\", \"random\", \"least_loaded\"]", "policies = [\"ewma\"]"}}) {
    size_t at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config.replace(at, from.size(), to);
  }
  std::string path = test::tempPath("sim-tls.toml");
  std::ofstream(path) << config;
  test::ChildProcess sim({test::testEnv("LBMAIL_BINARY"), "sim", "-c", path, "--quick"});
  int code = test::exitCode(sim.wait(std::chrono::seconds(120)));
  ASSERT_EQ(code, 0) << sim.err().substr(sim.err().size() > 6000 ? sim.err().size() - 6000 : 0);
  EXPECT_NE(sim.out().find(" KiB, TLS on\n"), std::string::npos) << sim.out();
  EXPECT_NE(sim.out().find("every recipient accounted for in every run: yes"), std::string::npos) << sim.out();
  // Every delivery's accounting line names the TLS version, and the sinks offered STARTTLS.
  std::string script =
      "import csv,json,sys\nrows=list(csv.DictReader(open(sys.argv[1]+'/ewma.csv')))\n"
      "done=[r for r in rows if r['outcome']=='delivered']\n"
      "assert len(done)>5000, len(done)\n"
      "assert all(r['tls']=='TLSv1.3' for r in done), [r for r in done if r['tls']!='TLSv1.3'][:3]\n"
      "assert json.load(open(sys.argv[1]+'/report.json'))['world']['tls'] is True\n"
      "print('ok')\n";
  test::ChildProcess check({test::testEnv("LBMAIL_PYTHON"), "-c", script, work});
  EXPECT_EQ(test::exitCode(check.wait()), 0) << check.err() << check.out();
  EXPECT_NE(readFile(work + "/logs/ewma-sink-g1.log").find(" starttls=true"), std::string::npos);
  std::filesystem::remove_all(work);
}

TEST(Sim, SigtermStopsEveryChild) {
  std::string work = test::tempPath("sim-stop");
  std::filesystem::remove_all(work);
  test::ChildProcess sim({test::testEnv("LBMAIL_BINARY"), "sim", "-c", testConfig(work), "--quick"});
  // Once the first run's initiator is up, stop the simulation.
  ASSERT_TRUE(sim.waitForStderrLine("event=sim.child_started child=oracle-initiator", std::chrono::seconds(60)))
      << sim.err();
  sim.signal(SIGTERM);
  EXPECT_EQ(test::exitCode(sim.wait(std::chrono::seconds(60))), 0) << sim.err();
  // Every child it started has exited.
  size_t started = 0, exited = 0;
  for (size_t at = sim.err().find("event=sim.child_started"); at != std::string::npos;
       at = sim.err().find("event=sim.child_started", at + 1)) {
    ++started;
  }
  for (size_t at = sim.err().find("event=sim.child_exited"); at != std::string::npos;
       at = sim.err().find("event=sim.child_exited", at + 1)) {
    ++exited;
  }
  EXPECT_GT(started, 4u);
  EXPECT_EQ(started, exited) << sim.err();
}

}  // namespace
}  // namespace lbmail
