// Tests for src/routing/gateway_selector.cc on synthetic gateways with an injected clock: a
// small discrete-event loop sends a message every millisecond, each chosen gateway answers
// after its latency for the domain (plus noise), and every answer feeds the table.
#include "lbmail/routing/gateway_selector.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <queue>
#include <random>

namespace lbmail {
namespace {

using namespace std::chrono_literals;

SelectorSettings unlimitedConcurrency() {
  SelectorSettings s;
  s.destination_concurrency = UINT32_MAX;
  return s;
}

struct Simulation {
  // latency(gateway, now_ms) in ms for the one domain simulated.
  std::function<double(size_t, uint64_t)> latency;
  size_t gateways = 2;
  double noise = 0.0;  // relative, uniform +-
  // The synthetic gateways carry any number of messages at once (no queue: each answers after
  // its latency), so what is in flight never waits.
  SelectorSettings settings = unlimitedConcurrency();
  std::chrono::milliseconds half_life = 5s;

  std::vector<int> choices;  // gateway per decision, in order
  uint64_t explorations = 0;
  uint64_t switches = 0;

  void run(uint64_t decisions) {
    DeliveryTimeTable table(gateways, half_life);
    uint32_t d = table.domainId("d.test");
    GatewaySelector selector(table, settings);
    std::vector<GatewayLoad> load(gateways, GatewayLoad{true, 1000000, 0, 0});
    using Done = std::tuple<uint64_t, size_t, double>;  // at, gateway, took
    std::priority_queue<Done, std::vector<Done>, std::greater<>> pending;
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> jitter(-noise, noise);
    for (uint64_t now = 0; now < decisions; ++now) {
      while (!pending.empty() && std::get<0>(pending.top()) <= now) {
        auto [at, g, took] = pending.top();
        pending.pop();
        table.recordDelivery(g, d, took, at);
        --load[g].in_flight;
      }
      int g = selector.choose(d, load, now);
      ASSERT_GE(g, 0);
      choices.push_back(g);
      double took = latency(static_cast<size_t>(g), now) * (1 + jitter(rng));
      ++load[static_cast<size_t>(g)].in_flight;
      pending.emplace(now + static_cast<uint64_t>(took), static_cast<size_t>(g), took);
    }
    explorations = selector.explorations();
    switches = selector.switches();
  }

  double share(int g, size_t from, size_t to) const {
    size_t n = 0;
    for (size_t i = from; i < to; ++i) n += choices[i] == g;
    return static_cast<double>(n) / static_cast<double>(to - from);
  }
};

TEST(GatewaySelector, ConvergesToTheFasterGateway) {
  Simulation sim;
  sim.latency = [](size_t g, uint64_t) { return g == 0 ? 300.0 : 100.0; };
  sim.noise = 0.1;
  sim.run(20000);
  EXPECT_GT(sim.share(1, 2000, 20000), 0.9);
}

TEST(GatewaySelector, ExplorationStaysWithinItsBoundAndRefreshes) {
  Simulation sim;
  sim.gateways = 3;
  sim.latency = [](size_t g, uint64_t) { return 50.0 + 100.0 * static_cast<double>(g); };
  sim.settings.exploration = 0.02;
  sim.settings.stale_after_ms = 2000;
  sim.run(30000);
  EXPECT_LE(static_cast<double>(sim.explorations), 0.02 * 30000 + 1);
  EXPECT_GT(sim.explorations, 0u);
  // Every gateway was sampled again in the last stretch, slow ones included.
  for (int g = 0; g < 3; ++g) EXPECT_GT(sim.share(g, 20000, 30000), 0.0) << g;
  EXPECT_GT(sim.share(0, 2000, 30000), 0.9);
}

TEST(GatewaySelector, DoesNotFlapOnNoise) {
  Simulation sim;
  sim.latency = [](size_t g, uint64_t) { return g == 0 ? 200.0 : 205.0; };
  sim.noise = 0.2;
  sim.settings.exploration = 0.01;
  sim.run(30000);
  EXPECT_LT(sim.switches, 10u) << "a domain moved between two equal gateways " << sim.switches << " times";
}

TEST(GatewaySelector, FollowsASwapWithinTheHalfLifeScale) {
  Simulation sim;
  // At 20 s the two gateways trade places.
  sim.latency = [](size_t g, uint64_t now) { return (g == 0) == (now < 20000) ? 80.0 : 400.0; };
  sim.noise = 0.1;
  sim.half_life = 2s;
  sim.settings.stale_after_ms = 3000;  // the slower gateway is re-measured every 3 s
  sim.run(40000);
  EXPECT_GT(sim.share(0, 5000, 20000), 0.9);
  // Within 10 s (a refresh plus a few half-lives) most traffic is on the new best.
  EXPECT_GT(sim.share(1, 27000, 30000), 0.9);
}

TEST(GatewaySelector, OnlyGatewaysThatAreUpWithCreditAreCandidates) {
  DeliveryTimeTable table(3, 10s);
  uint32_t d = table.domainId("d.test");
  table.recordDelivery(0, d, 10, 0);   // the fastest, but out of credit
  table.recordDelivery(1, d, 50, 0);   // down
  table.recordDelivery(2, d, 500, 0);  // slow but available
  std::vector<GatewayLoad> load{{true, 0, 0, 0}, {false, 100, 0, 0}, {true, 100, 0, 0}};
  for (SelectionPolicy p : {SelectionPolicy::kEwma, SelectionPolicy::kRoundRobin, SelectionPolicy::kRandom,
                            SelectionPolicy::kLeastLoaded}) {
    SelectorSettings s;
    s.policy = p;
    GatewaySelector selector(table, s);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(selector.choose(d, load, 1000 + i), 2) << selectionPolicyName(p);
    std::vector<GatewayLoad> none{{false, 5, 0, 0}, {true, 0, 0, 0}};
    EXPECT_EQ(selector.choose(d, none, 2000), -1);
  }
}

TEST(GatewaySelector, LoadCountsAgainstAGateway) {
  DeliveryTimeTable table(2, 10s);
  uint32_t d = table.domainId("d.test");
  table.recordDelivery(0, d, 100, 0);
  table.recordDelivery(1, d, 150, 0);
  SelectorSettings s;
  s.exploration = 0;
  GatewaySelector selector(table, s);
  // Gateway 0 is faster, but with 500 in flight to the destination, 490 beyond the 10 it
  // carries at once, the next one waits about 490 × 100 ms / 10 = 4.9 s.
  std::vector<GatewayLoad> load{{true, 10, 500}, {true, 10, 0}};
  EXPECT_EQ(selector.choose(d, load, 1), 1);
  // Up to its concurrency, what is in flight costs nothing: it is carried at once.
  load[0].in_flight = 10;
  EXPECT_EQ(selector.choose(d, load, 2), 0);
  // A gateway silent for longer than the other's delivery time is not chosen: nothing sent
  // there comes back sooner.
  load[0].silent_ms = 400;
  EXPECT_EQ(selector.choose(d, load, 3), 1);
}

TEST(GatewaySelector, ComparisonPoliciesSpreadAsNamed) {
  DeliveryTimeTable table(3, 10s);
  uint32_t d = table.domainId("d.test");
  std::vector<GatewayLoad> load(3, GatewayLoad{true, 10, 0, 0});
  SelectorSettings rr;
  rr.policy = SelectionPolicy::kRoundRobin;
  GatewaySelector round_robin(table, rr);
  EXPECT_EQ(round_robin.choose(d, load, 0), 0);
  EXPECT_EQ(round_robin.choose(d, load, 0), 1);
  EXPECT_EQ(round_robin.choose(d, load, 0), 2);
  EXPECT_EQ(round_robin.choose(d, load, 0), 0);
  SelectorSettings ll;
  ll.policy = SelectionPolicy::kLeastLoaded;
  load[0].in_flight = 5;
  load[1].in_flight = 2;
  load[2].in_flight = 9;
  EXPECT_EQ(GatewaySelector(table, ll).choose(d, load, 0), 1);
  SelectorSettings rnd;
  rnd.policy = SelectionPolicy::kRandom;
  GatewaySelector random(table, rnd);
  std::map<int, int> seen;
  for (int i = 0; i < 3000; ++i) ++seen[random.choose(d, load, 0)];
  for (int g = 0; g < 3; ++g) EXPECT_GT(seen[g], 800) << g;
  EXPECT_EQ(parseSelectionPolicy("least_loaded"), SelectionPolicy::kLeastLoaded);
  EXPECT_FALSE(parseSelectionPolicy("fastest"));
}

}  // namespace
}  // namespace lbmail

namespace lbmail {
namespace {

SelectorSettings noExploration() {
  SelectorSettings s;
  s.exploration = 0;
  return s;
}

// A table where gateway 0 is fast (10 ms) and gateway 1 slow (90 ms) for the one domain.
struct TwoGateways {
  DeliveryTimeTable table{2, std::chrono::seconds(5)};
  uint32_t d = table.domainId("d1.g1.sim");
  TwoGateways() {
    for (int i = 0; i < 20; ++i) {
      table.recordDelivery(0, d, 10, 1000 + i);
      table.recordDelivery(1, d, 90, 1000 + i);
    }
  }
};

TEST(GatewaySelectorWait, EwmaWaitsForTheFasterGatewaysCreditRatherThanTakeTheSlowOne) {
  TwoGateways t;
  GatewaySelector selector(t.table, noExploration());
  // The fast gateway is up without credit; the slow one has credit.
  std::vector<GatewayLoad> loads = {{true, 0, 0}, {true, 10, 0}};
  int wait_for = -2;
  EXPECT_EQ(selector.choose(t.d, loads, 2000, &wait_for), -1);
  EXPECT_EQ(wait_for, 0);
  // Without wait_for the caller takes what has credit now, as before.
  EXPECT_EQ(selector.choose(t.d, loads, 2000), 1);
  // When the fast one's own backlog makes it slower than the slow one, no waiting.
  loads[0].in_flight = 100;  // 90 beyond the 10 it carries at once, 10 ms each over 10: 90 ms ahead
  EXPECT_EQ(selector.choose(t.d, loads, 2000, &wait_for), 1);
  EXPECT_EQ(wait_for, -1);
  // A gateway that is down is never waited for.
  loads[0] = {false, 0, 0};
  EXPECT_EQ(selector.choose(t.d, loads, 2000, &wait_for), 1);
  EXPECT_EQ(wait_for, -1);
}

TEST(GatewaySelectorWait, AnUnmeasuredGatewayGetsBoundedProbesNotAWave) {
  DeliveryTimeTable table(2, std::chrono::seconds(5));
  uint32_t d = table.domainId("d.test");
  uint32_t other = table.domainId("other.test");
  table.recordDelivery(0, d, 50, 1000);     // gateway 0 has measured d
  table.recordDelivery(1, other, 5, 1000);  // gateway 1 is fast elsewhere: its average says 5 ms
  GatewaySelector selector(table, noExploration());
  std::vector<GatewayLoad> loads = {{true, 0, 0}, {true, 10, 0}};
  // Gateway 0 (measured) is out of credit; gateway 1 has only its average for d: it gets
  // probes, at most kProbes in flight, and then d waits for gateway 0.
  int sent_to_1 = 0;
  for (int i = 0; i < 20; ++i) {
    int wait_for = -2;
    int g = selector.choose(d, loads, 2000, &wait_for);
    if (g == 1) {
      ++sent_to_1;
      ++loads[1].in_flight;
    } else {
      EXPECT_EQ(wait_for, 0);
    }
  }
  EXPECT_EQ(sent_to_1, 4);
}

// Gateway 0 is known only as slow (its answers were refusals or deferrals) while gateway 1's
// probes are out: the next message waits for their answer instead of going to gateway 0.
TEST(GatewaySelectorWait, WaitsForAGatewayStillMeasuringRatherThanOneKnownOnlyAsSlow) {
  DeliveryTimeTable table(2, std::chrono::seconds(5));
  uint32_t d = table.domainId("d.test");
  SelectorSettings s;
  s.exploration = 0;
  GatewaySelector selector(table, s);
  std::vector<GatewayLoad> loads(2, GatewayLoad{true, 5, 0, 0});
  loads[1].in_flight = GatewaySelector::kProbes;
  table.recordDelivery(0, d, s.slow_ms, 0);
  int wait_for = -2;
  EXPECT_EQ(selector.choose(d, loads, 0, &wait_for), -1);
  EXPECT_EQ(wait_for, -1);
  // Nobody left measuring (gateway 1 is down): the slow one is all there is.
  loads[1].up = false;
  EXPECT_EQ(selector.choose(d, loads, 0), 0);
  loads[1].up = true;
  // Gateway 1's answer came: it is the one.
  table.recordDelivery(1, d, 12, 10);
  EXPECT_EQ(selector.choose(d, loads, 10), 1);
  // Slow but under the threshold is a measurement like any other.
  DeliveryTimeTable other(2, std::chrono::seconds(5));
  GatewaySelector selector2(other, s);
  other.recordDelivery(0, other.domainId("d.test"), s.slow_ms - 1, 0);
  EXPECT_EQ(selector2.choose(0, loads, 0), 0);
}

// A domain new to the campaign on a site the gateways have measured goes straight to the
// site's fastest gateway: no probes through the others, whose times for the site are known.
// And a site measured afresh through a gateway counts as fresh for every domain on it, so
// exploration refreshes each (gateway, site) once, not each (gateway, domain).
TEST(GatewaySelectorSites, ADomainOnAMeasuredSiteNeedsNoProbesAndSharesItsRefreshes) {
  DeliveryTimeTable table(3, std::chrono::seconds(2), std::chrono::seconds(1));
  uint32_t known = table.domainId("known.test");
  table.setSite(known, 0);
  for (size_t g = 0; g < 3; ++g) table.recordDelivery(g, known, g == 2 ? 10 : 60, 1000);
  SelectorSettings s = noExploration();
  s.stale_after_ms = 1000;
  GatewaySelector selector(table, s);
  std::vector<GatewayLoad> loads(3, GatewayLoad{true, 10, 0});
  uint32_t fresh = table.domainId("fresh.test");
  table.setSite(fresh, 0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(selector.choose(fresh, loads, 1500), 2);
  EXPECT_EQ(selector.explorations(), 0u) << "no probes: the site is measured everywhere";
  // With exploration on, 1.5 s later (the site's entries are stale after 1 s), gateways 0 and
  // 1 get one exploration each for the site, through whichever domain's turn came (gateway 2's
  // entry is refreshed by the traffic itself); then no domain of the site is explored again
  // until the site is stale again.
  s.exploration = 0.5;
  GatewaySelector exploring(table, s);
  std::map<int, int> sent;
  for (uint64_t i = 0; i < 40; ++i) {
    uint32_t d = i % 2 ? known : fresh;
    int g = exploring.choose(d, loads, 2500);
    ++sent[g];
    table.recordDelivery(static_cast<size_t>(g), d, g == 2 ? 10 : 60, 2500);
  }
  EXPECT_EQ(exploring.explorations(), 2u);
  EXPECT_EQ(sent[0], 1);
  EXPECT_EQ(sent[1], 1);
}

TEST(GatewaySelectorFixed, RoutesByDomainOrParentAndWaitsForTheRoutedGateway) {
  DeliveryTimeTable table(3, std::chrono::seconds(5));
  SelectorSettings s;
  s.policy = SelectionPolicy::kFixed;
  s.routes = {{".g1.sim", 2}, {"exact.test", 1}};
  GatewaySelector selector(table, s);
  std::vector<GatewayLoad> loads(3, GatewayLoad{true, 5, 0, 0});
  loads[0].in_flight = 9;
  EXPECT_EQ(selector.choose(table.domainId("d7.g1.sim"), loads, 0), 2);
  EXPECT_EQ(selector.choose(table.domainId("exact.test"), loads, 0), 1);
  EXPECT_EQ(selector.choose(table.domainId("sub.exact.test"), loads, 0), 1) << "unrouted: least loaded";
  loads[1].in_flight = 20;
  EXPECT_EQ(selector.choose(table.domainId("unrouted.test"), loads, 0), 2);
  // The routed gateway out of credit: wait for it.
  loads[2].credit = 0;
  int wait_for = -2;
  EXPECT_EQ(selector.choose(table.domainId("d7.g1.sim"), loads, 0, &wait_for), -1);
  EXPECT_EQ(wait_for, 2);
  // The routed gateway left out for the recipient (avoided after a deferral, its site
  // suspended): the least loaded takes it, rather than nobody ever.
  loads[2].up = false;
  EXPECT_EQ(selector.choose(table.domainId("d7.g1.sim"), loads, 0, &wait_for), 0);
  EXPECT_EQ(parseSelectionPolicy("fixed"), SelectionPolicy::kFixed);
}

}  // namespace
}  // namespace lbmail
