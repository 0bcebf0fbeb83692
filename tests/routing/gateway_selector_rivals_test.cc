// Tests for src/routing/gateway_selector_rivals.cc: the four rivals as the selector runs them,
// on a simulated clock: candidates respected, C3's ranking and rate tokens, Prequal's probes
// and pool, and the two random choices of peak-EWMA and least-request.
#include "lbmail/routing/gateway_selector.h"

#include <gtest/gtest.h>

#include <map>
#include <queue>
#include <set>
#include <tuple>
#include <vector>

namespace lbmail {
namespace {

using namespace std::chrono_literals;

constexpr SelectionPolicy kRivals[] = {SelectionPolicy::kC3, SelectionPolicy::kPrequal,
                                       SelectionPolicy::kPeakEwmaP2c, SelectionPolicy::kLeastRequestP2c};

struct Fixture {
  DeliveryTimeTable table{3, 10s};
  uint32_t d = table.domainId("d.test");

  GatewaySelector make(SelectionPolicy p, uint64_t seed = 1) {
    SelectorSettings s;
    s.policy = p;
    s.seed = seed;
    return GatewaySelector(table, s);
  }
};

TEST(GatewaySelectorRivals, NamesParse) {
  for (SelectionPolicy p : kRivals) EXPECT_EQ(parseSelectionPolicy(selectionPolicyName(p)), p);
}

TEST(GatewaySelectorRivals, OnlyGatewaysThatAreUpWithCreditAreCandidates) {
  Fixture f;
  for (SelectionPolicy p : kRivals) {
    GatewaySelector selector = f.make(p);
    // Teach the learning ones that the non-candidates are the fastest.
    for (size_t g = 0; g < 3; ++g) selector.answered(g, f.d, {g == 2 ? 500.0 : 1.0, 0.5, 0}, 10);
    selector.probed(0, {0, 1}, 10);
    selector.probed(1, {0, 1}, 10);
    std::vector<GatewayLoad> load{{true, 0, 0, 0}, {false, 100, 0, 0}, {true, 100, 0, 0}};
    for (uint64_t i = 0; i < 50; ++i) EXPECT_EQ(selector.choose(f.d, load, 100 + 10 * i), 2) << selectionPolicyName(p);
    std::vector<GatewayLoad> none{{false, 5, 0, 0}, {true, 0, 0, 0}, {false, 0, 0, 0}};
    EXPECT_EQ(selector.choose(f.d, none, 1000), -1) << selectionPolicyName(p);
  }
}

TEST(GatewaySelectorRivals, C3RanksAGatewayNotHeardFromFirst) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kC3);
  selector.answered(0, f.d, {5, 1, 0}, 0);
  selector.answered(2, f.d, {5, 1, 0}, 0);
  std::vector<GatewayLoad> load(3, GatewayLoad{true, 100, 0, 0});
  EXPECT_EQ(selector.choose(f.d, load, 1), 1);
}

TEST(GatewaySelectorRivals, C3PrefersTheShorterQueueOverTheFasterAnswer) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kC3);
  selector.answered(0, f.d, {50, 5, 0}, 0);  // Ψ = 45 + 1³·5 = 50
  selector.answered(1, f.d, {20, 5, 3}, 0);  // Ψ = 15 + 4³·5 = 335
  std::vector<GatewayLoad> load(2, GatewayLoad{true, 100, 0, 0});
  EXPECT_EQ(selector.choose(f.d, load, 1), 0);
  // What this initiator has in flight counts too: 2 outstanding at 0 make q̂ = 3, Ψ = 180.
  load[0].in_flight = 2;
  EXPECT_EQ(selector.choose(f.d, load, 1), 0);
  load[0].in_flight = 3;  // q̂ = 4: Ψ = 365
  EXPECT_EQ(selector.choose(f.d, load, 1), 1);
}

TEST(GatewaySelectorRivals, C3SpendsRateTokensThenWaits) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kC3);
  std::vector<GatewayLoad> load{{true, 1000, 0, 0}};
  for (int i = 0; i < 200; ++i) ASSERT_EQ(selector.choose(f.d, load, 5000), 0) << i;  // the full bucket
  int wait_for = -2;
  EXPECT_EQ(selector.choose(f.d, load, 5000, &wait_for), -1);
  EXPECT_EQ(wait_for, -1) << "nothing in flight there: no answer will free it, the caller ticks";
  load[0].in_flight = 10;
  EXPECT_EQ(selector.choose(f.d, load, 5000, &wait_for), -1);
  EXPECT_EQ(wait_for, 0) << "its next answer comes before long";
  EXPECT_EQ(selector.choose(f.d, load, 5020), 0) << "a token every 20 ms at the first rate";
}

TEST(GatewaySelectorRivals, C3TakesTheNextRankedWhenTheBestHasNoToken) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kC3);
  selector.answered(0, f.d, {10, 2, 0}, 0);
  selector.answered(1, f.d, {90, 2, 0}, 0);
  std::vector<GatewayLoad> load(2, GatewayLoad{true, 1000, 0, 0});
  std::map<int, int> seen;
  for (int i = 0; i < 250; ++i) ++seen[selector.choose(f.d, load, 1)];
  EXPECT_EQ(seen[0], 200);
  EXPECT_EQ(seen[1], 50);
}

TEST(GatewaySelectorRivals, PrequalOwesThreeDistinctProbesToGatewaysUpPerDecision) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kPrequal);
  EXPECT_TRUE(selector.probesDue(0).empty()) << "no decision yet";
  std::vector<GatewayLoad> load(6, GatewayLoad{true, 100, 0, 0});
  load[4].up = false;
  std::map<size_t, int> probed;
  for (int i = 0; i < 300; ++i) {
    ASSERT_GE(selector.choose(f.d, load, 1), 0);
    std::span<const size_t> due = selector.probesDue(1);
    ASSERT_EQ(due.size(), GatewaySelector::kProbesPerDecision);
    EXPECT_EQ(std::set<size_t>(due.begin(), due.end()).size(), due.size()) << "distinct";
    for (size_t g : due) ++probed[g];
    EXPECT_TRUE(selector.probesDue(1).empty()) << "owed once";
  }
  EXPECT_EQ(probed.count(4), 0u) << "never a gateway that is down";
  for (size_t g : {0, 1, 2, 3, 5}) EXPECT_GT(probed[g], 120) << g;  // 180 expected each
  // With fewer gateways up than probes owed, each up one once.
  std::vector<GatewayLoad> two{{true, 1, 0, 0}, {true, 1, 0, 0}};
  selector.choose(f.d, two, 2);
  EXPECT_EQ(selector.probesDue(2).size(), 2u);
  EXPECT_TRUE(f.make(SelectionPolicy::kC3).probesDue(0).empty()) << "only prequal probes";
}

TEST(GatewaySelectorRivals, PrequalFollowsItsProbesAndFallsBackToARandomCandidate) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kPrequal);
  std::vector<GatewayLoad> load(3, GatewayLoad{true, 100, 0, 0});
  std::map<int, int> seen;
  for (int i = 0; i < 3000; ++i) ++seen[selector.choose(f.d, load, 1)];
  for (int g = 0; g < 3; ++g) EXPECT_GT(seen[g], 800) << "an empty pool spreads at random: " << g;
  selector.probed(0, {5, 80}, 10);
  selector.probed(1, {5, 20}, 10);
  selector.probed(2, {5, 50}, 10);
  EXPECT_EQ(selector.choose(f.d, load, 11), 1);
  // A second later the probes are gone: random again.
  seen.clear();
  for (int i = 0; i < 300; ++i) ++seen[selector.choose(f.d, load, 1011)];
  EXPECT_GT(seen[0], 50);
}

// Gateway 0 has no load, 1 some, 2 the most: of two distinct random picks the less loaded
// wins, so 0 wins both of its pairs (2/3), 1 one pair (1/3) and 2 never.
void expectPowerOfTwoChoices(GatewaySelector& selector, uint32_t d, std::vector<GatewayLoad>& load) {
  std::map<int, int> seen;
  for (int i = 0; i < 3000; ++i) ++seen[selector.choose(d, load, 100)];
  EXPECT_EQ(seen[2], 0) << "the worst of three never wins a pair";
  EXPECT_NEAR(seen[0], 2000, 150);
  EXPECT_NEAR(seen[1], 1000, 150);
}

TEST(GatewaySelectorRivals, LeastRequestTakesTheLessLoadedOfTwoDistinctPicks) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kLeastRequestP2c);
  std::vector<GatewayLoad> load{{true, 100, 0, 0}, {true, 100, 5, 0}, {true, 100, 10, 0}};
  expectPowerOfTwoChoices(selector, f.d, load);
}

TEST(GatewaySelectorRivals, PeakEwmaTakesTheCheaperOfTwoDistinctPicks) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kPeakEwmaP2c);
  selector.answered(0, f.d, {10, 0, 0}, 0);
  selector.answered(1, f.d, {20, 0, 0}, 0);
  selector.answered(2, f.d, {30, 0, 0}, 0);
  std::vector<GatewayLoad> load(3, GatewayLoad{true, 100, 0, 0});
  expectPowerOfTwoChoices(selector, f.d, load);
}

TEST(GatewaySelectorRivals, PeakEwmaAvoidsAGatewayRightAfterASlowAnswer) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kPeakEwmaP2c);
  std::vector<GatewayLoad> load(2, GatewayLoad{true, 100, 1, 0});
  selector.answered(0, f.d, {10, 0, 0}, 0);
  selector.answered(1, f.d, {12, 0, 0}, 0);
  EXPECT_EQ(selector.choose(f.d, load, 1), 0);
  selector.answered(0, f.d, {400, 0, 0}, 2);  // one slow answer: the value jumps to it
  EXPECT_EQ(selector.choose(f.d, load, 3), 1);
  // 50 s (5 τ) later the 400 weighs e^-5 beside a fresh answer of 10 (12.6 in all), less
  // than the other's fresh 20.
  selector.answered(1, f.d, {20, 0, 0}, 50000);
  selector.answered(0, f.d, {10, 0, 0}, 50000);
  EXPECT_EQ(selector.choose(f.d, load, 50001), 0);
}

TEST(GatewaySelectorRivals, PeakEwmaDoesNotPileOntoAGatewayWithoutHistory) {
  Fixture f;
  GatewaySelector selector = f.make(SelectionPolicy::kPeakEwmaP2c);
  selector.answered(0, f.d, {900, 0, 0}, 0);
  // Gateway 1 has not answered yet and has messages pending: Finagle's penalty.
  std::vector<GatewayLoad> load{{true, 100, 3, 0}, {true, 100, 1, 0}};
  EXPECT_EQ(selector.choose(f.d, load, 1), 0);
  load[1].in_flight = 0;  // nothing pending there: cost 0, it gets tried
  EXPECT_EQ(selector.choose(f.d, load, 1), 1);
}

// Two gateways, the second three times slower, each 1% slower per message in flight there
// (together they could take 6 a millisecond); a message arrives every millisecond and waits
// while the policy answers -1. Every answer and probe answer is fed back as the initiator
// does. Returns the share of the messages sent to the faster gateway.
double fasterShare(SelectionPolicy p) {
  DeliveryTimeTable table(2, 10s);
  uint32_t d = table.domainId("d.test");
  SelectorSettings s;
  s.policy = p;
  GatewaySelector selector(table, s);
  const double latency[] = {20, 60};
  std::vector<GatewayLoad> load(2, GatewayLoad{true, 1000, 0, 0});
  using Done = std::tuple<uint64_t, size_t, double>;  // at, gateway, took
  std::priority_queue<Done, std::vector<Done>, std::greater<>> pending;
  uint64_t waiting = 0;
  uint64_t sent[2] = {0, 0};
  for (uint64_t now = 0; now < 20000; ++now) {
    while (!pending.empty() && std::get<0>(pending.top()) <= now) {
      auto [at, g, took] = pending.top();
      pending.pop();
      --load[g].in_flight;
      selector.answered(g, d, {took, took - 1, 0}, at);
    }
    for (++waiting; waiting > 0; --waiting) {
      int g = selector.choose(d, load, now);
      if (g < 0) break;
      auto gw = static_cast<size_t>(g);
      ++sent[gw];
      double took = latency[gw] * (1 + 0.01 * static_cast<double>(load[gw].in_flight));  // slower with load
      ++load[gw].in_flight;
      pending.emplace(now + static_cast<uint64_t>(took), gw, took);
    }
    for (size_t g : selector.probesDue(now)) selector.probed(g, {load[g].in_flight, latency[g]}, now);
  }
  EXPECT_LT(waiting, 50u) << selectionPolicyName(p) << " keeps up with the arrivals";
  return static_cast<double>(sent[0]) / static_cast<double>(sent[0] + sent[1]);
}

TEST(GatewaySelectorRivals, EachSendsMostToTheFasterGateway) {
  for (SelectionPolicy p : kRivals) {
    double share = fasterShare(p);
    EXPECT_GT(share, 0.6) << selectionPolicyName(p);
    EXPECT_LT(share, 1.0) << selectionPolicyName(p) << " still uses the slower one under load";
  }
}

}  // namespace
}  // namespace lbmail
