// Tests for src/initiator/gateway_dispatcher.cc over fake gateways (up, credit, media per
// gateway; no sockets): probes for an unknown domain, parking for a better gateway's credit,
// avoid_gateway, gateways that refused a recipient by policy, missing media, a gateway that
// is down, and the gateways' shaping: suspended and warm-up sites, throttled ones.
#include "gateway_dispatcher.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

using Route = GatewayDispatcher::Route;

struct FakeGateway {
  bool up = true;
  uint64_t credit = 100;
  std::vector<bool> missing_media = {false};
};

class FakeGateways : public GatewayAvailability {
 public:
  explicit FakeGateways(size_t n) : gateways(n) {}
  size_t gatewayCount() const override { return gateways.size(); }
  bool isUp(size_t g) const override { return gateways[g].up; }
  uint64_t credit(size_t g) const override { return gateways[g].credit; }
  bool hasMedia(size_t g, size_t material) const override { return !gateways[g].missing_media[material]; }
  std::vector<FakeGateway> gateways;
};

SelectionConfig ewma() {
  SelectionConfig c;
  c.selector.exploration = 0;  // decisions here are not spent on exploring
  return c;
}

PendingRecipient recipient(std::string domain, int avoid = -1) {
  PendingRecipient p;
  p.email = "a@" + domain;
  p.domain = std::move(domain);
  p.material = 0;
  p.avoid_gateway = avoid;
  return p;
}

// Measured delivery times for the domain: gateway g took ms[g].
void measure(GatewayDispatcher& d, std::string_view domain, std::vector<double> ms) {
  uint32_t id = d.table().domainId(domain);
  for (size_t g = 0; g < ms.size(); ++g) d.table().recordDelivery(g, id, ms[g], 1000);
}

TEST(GatewayDispatcher, AnUnknownDomainGetsAFewProbesPerGatewayThenWaits) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  std::vector<size_t> per_gateway(2);
  for (uint64_t i = 0; i < 2 * GatewaySelector::kProbes; ++i) {
    PendingRecipient p = recipient("new.example");
    GatewayDispatcher::Choice c = d.route(p, gw, 1000);
    ASSERT_EQ(c.route, Route::kSend) << i;
    d.sent(p.domain_id, c.gateway, 1000);
    ++per_gateway[c.gateway];
  }
  // Spread evenly, so that both measure the domain within their first answers.
  EXPECT_EQ(per_gateway, (std::vector<size_t>{GatewaySelector::kProbes, GatewaySelector::kProbes}));
  EXPECT_EQ(d.inFlight(0), GatewaySelector::kProbes);
  PendingRecipient p = recipient("new.example");
  EXPECT_EQ(d.route(p, gw, 1000).route, Route::kHold);
  // Another domain is not held back by this one.
  PendingRecipient other = recipient("other.example");
  EXPECT_EQ(d.route(other, gw, 1000).route, Route::kSend);
  // Once an answer has measured it, the rest go out.
  measure(d, "new.example", {20, 30});
  d.answered(p.domain_id, 0, 1000, 1000);
  EXPECT_EQ(d.route(p, gw, 1000).route, Route::kSend);
}

TEST(GatewayDispatcher, ParksForABetterGatewaysCreditRatherThanTakeASlowOne) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 1000});
  gw.gateways[0].credit = 0;
  PendingRecipient p = recipient("d.example");
  p.id = 7;
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kParked);
  EXPECT_EQ(c.gateway, 0u);
  EXPECT_TRUE(d.hasParked(0));
  EXPECT_FALSE(d.hasParked(1));
  EXPECT_EQ(d.parked(), 1u);
  PendingRecipient back = d.unpark(0);
  EXPECT_EQ(back.id, 7u);
  EXPECT_EQ(d.parked(), 0u);
  // With its credit back, it goes there.
  gw.gateways[0].credit = 1;
  c = d.route(back, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 0u);
}

TEST(GatewayDispatcher, AvoidGatewayPrefersAnotherWhenThereIsOne) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 12});
  PendingRecipient p = recipient("d.example", 0);
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 1u);
  // The other one cannot take it: the avoided gateway still may.
  gw.gateways[1].credit = 0;
  gw.gateways[1].up = false;
  c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 0u);
}

// Refused by policy on gateway 0: that gateway is no candidate while gateway 1 is up, however
// much faster 0 looks and even while 1 has no credit; with 1 down it is one again, so the
// recipient cannot wait forever (the policy makes a second refusal there final).
TEST(GatewayDispatcher, AGatewayThatRefusedTheRecipientIsLeftOutWhileAnotherIsUp) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 500});
  PendingRecipient p = recipient("d.example");
  p.refused_by = {0};
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 1u);
  gw.gateways[1].credit = 0;
  c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kParked);
  EXPECT_EQ(c.gateway, 1u);
  p = d.unpark(1);
  gw.gateways[1].up = false;
  c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 0u);
  // Refused everywhere: every gateway that is up is a candidate again.
  p.refused_by = {0, 1};
  gw.gateways[1] = FakeGateway{};
  EXPECT_EQ(d.route(p, gw, 1000).route, Route::kSend);
}

TEST(GatewayDispatcher, MediaMissingOnEveryGatewayIsSaid) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 12});
  gw.gateways[0].missing_media = {true};
  PendingRecipient p = recipient("d.example");
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 1u);  // the one that has them
  gw.gateways[1].missing_media = {true};
  EXPECT_EQ(d.route(p, gw, 1000).route, Route::kMediaMissing);
}

TEST(GatewayDispatcher, AGatewayThatIsDownIsNoCandidate) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 500});
  gw.gateways[0].up = false;
  PendingRecipient p = recipient("d.example");
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 1u);
  gw.gateways[1].up = false;
  EXPECT_EQ(d.route(p, gw, 1000).route, Route::kHold);
}

TEST(GatewayDispatcher, InFlightIsCountedPerGatewayOverEveryDomain) {
  GatewayDispatcher d(2, ewma());
  uint32_t a = d.table().domainId("a.example");
  uint32_t b = d.table().domainId("b.example");
  d.sent(a, 1, 1000);
  d.sent(b, 1, 1000);
  d.sent(b, 0, 1000);
  EXPECT_EQ(d.inFlight(0), 1u);
  EXPECT_EQ(d.inFlight(1), 2u);
  d.answered(a, 1, 1000, 1000);
  d.dropped(b, 1, 1000, 1000);
  EXPECT_EQ(d.inFlight(1), 0u);
}

// The rivals rank gateways, not (domain, gateway) cells: what a gateway has in flight to other
// domains counts too. Two gateways: least_request_p2c's two random choices are both, and the
// one with fewer in flight wins.
TEST(GatewayDispatcher, TheRivalsSeeEachGatewaysWholeLoad) {
  SelectionConfig c = ewma();
  c.selector.policy = SelectionPolicy::kLeastRequestP2c;
  GatewayDispatcher d(2, c);
  FakeGateways gw(2);
  uint32_t busy = d.table().domainId("busy.example");
  for (int i = 0; i < 5; ++i) d.sent(busy, 0, 1000);
  d.sent(busy, 1, 1000);
  for (int i = 0; i < 3; ++i) {
    PendingRecipient p = recipient("quiet.example");
    GatewayDispatcher::Choice choice = d.route(p, gw, 1000);
    ASSERT_EQ(choice.route, Route::kSend);
    EXPECT_EQ(choice.gateway, 1u) << i;
    d.sent(p.domain_id, choice.gateway, 1000);
  }
}

// c3 answers -1 once its rate limiter holds every gateway back, naming the one whose token
// comes first. That gateway has credit: parked on it, the recipient would come straight back
// (the campaign unparks while credit lasts) and be parked again, for ever. It waits for the
// next tick instead.
TEST(GatewayDispatcher, ARateLimitedGatewayWithCreditIsWaitedForByTheTickNotByParking) {
  SelectionConfig c = ewma();
  c.selector.policy = SelectionPolicy::kC3;
  GatewayDispatcher d(2, c);
  FakeGateways gw(2);
  GatewayDispatcher::Choice choice;
  int sent = 0;
  for (; sent < 10000; ++sent) {
    PendingRecipient p = recipient("a.example");
    choice = d.route(p, gw, 1000);
    if (choice.route != Route::kSend) break;
    d.sent(p.domain_id, choice.gateway, 1000);
  }
  ASSERT_LT(sent, 10000) << "c3's rate limiter never held a gateway back";
  EXPECT_EQ(choice.route, Route::kHold);
  EXPECT_EQ(d.parked(), 0u);
}

// ---- The gateways' shaping (issue 20) ----

proto::SitesFrame report(proto::SiteStatus status) {
  proto::SitesFrame f;
  f.sites = {status};
  return f;
}

proto::SiteStatus suspendedFor(uint32_t ms) { return {"gmail", ms, 0, 0, proto::SiteStatus::kNoWarmupCap}; }

// Gateway 0 reported the domain's site suspended: it is left out however fast it looks, until
// the time left when it reported has passed; other sites are not affected.
TEST(GatewayDispatcher, AGatewayWhoseSiteIsSuspendedIsLeftOut) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 500});
  measure(d, "other.example", {10, 500});
  PendingRecipient p = recipient("d.example");
  EXPECT_EQ(d.route(p, gw, 1000).gateway, 0u);
  d.learnSite(p.domain_id, "gmail");
  d.sites().report(0, report(suspendedFor(60'000)), 1000);
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 1u);
  // Even while gateway 1 is out of credit: the recipient waits for it.
  gw.gateways[1].credit = 0;
  c = d.route(p, gw, 2000);
  EXPECT_EQ(c.route, Route::kParked);
  EXPECT_EQ(c.gateway, 1u);
  p = d.unpark(1);
  gw.gateways[1].credit = 100;
  PendingRecipient other = recipient("other.example");
  EXPECT_EQ(d.route(other, gw, 2000).gateway, 0u);
  EXPECT_EQ(d.route(p, gw, 61'000).gateway, 0u);  // the suspension is over
}

// Suspended on every gateway: none is left out (each gateway's REJECT sends the recipient back,
// at most max_requeues times), so it cannot wait forever on reports.
TEST(GatewayDispatcher, WhenEveryGatewayIsLeftOutNoneIs) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 500});
  PendingRecipient p = recipient("d.example");
  d.learnSite(d.table().domainId("d.example"), "gmail");
  d.sites().report(0, report(suspendedFor(60'000)), 1000);
  d.sites().report(1, report(suspendedFor(60'000)), 1000);
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 0u);
  // The one left that could take it is down: the suspended one takes it.
  d.sites().report(1, proto::SitesFrame{}, 1000);
  gw.gateways[1].up = false;
  c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 0u);
}

// Sent back by gateway 1 (a throttle) while gateway 0's site is suspended: avoiding 1 would
// leave only the suspended one, which refuses it; 1 takes it again.
TEST(GatewayDispatcher, AvoidingAGatewayNeverLeavesOnlyASuspendedOne) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 500});
  PendingRecipient p = recipient("d.example", 1);
  d.learnSite(d.table().domainId("d.example"), "gmail");
  d.sites().report(0, report(suspendedFor(60'000)), 1000);
  GatewayDispatcher::Choice c = d.route(p, gw, 1000);
  EXPECT_EQ(c.route, Route::kSend);
  EXPECT_EQ(c.gateway, 1u);
  // Once the suspension is over, avoiding gateway 1 sends it to 0.
  EXPECT_EQ(d.route(p, gw, 61'000).gateway, 0u);
}

// Gateway 0 may send 3 more to the site today: the fourth spills over to gateway 1, slower as it
// is, until a report says gateway 0 has room again.
TEST(GatewayDispatcher, WarmUpUsedUpSpillsOverToAnotherGateway) {
  GatewayDispatcher d(2, ewma());
  FakeGateways gw(2);
  measure(d, "d.example", {10, 1000});
  uint32_t domain = d.table().domainId("d.example");
  d.learnSite(domain, "gmail");
  d.sites().report(0, report({"gmail", 0, 0, 0, 3}), 1000);
  std::vector<size_t> to;
  for (int i = 0; i < 5; ++i) {
    PendingRecipient p = recipient("d.example");
    GatewayDispatcher::Choice c = d.route(p, gw, 1000);
    ASSERT_EQ(c.route, Route::kSend);
    d.sent(domain, c.gateway, 1000);
    to.push_back(c.gateway);
  }
  EXPECT_EQ(to, (std::vector<size_t>{0, 0, 0, 1, 1}));
  // At the same instant (a gateway that owed answers for a second would count as silent).
  d.sites().report(0, report({"gmail", 0, 0, 0, 1}), 1000);
  PendingRecipient p = recipient("d.example");
  EXPECT_EQ(d.route(p, gw, 1000).gateway, 0u);
}

// Routes n recipients of d.example, each counted in flight where it went (no answers).
std::vector<size_t> spread(GatewayDispatcher& d, FakeGateways& gw, int n) {
  std::vector<size_t> per_gateway(gw.gateways.size());
  uint32_t domain = d.table().domainId("d.example");
  for (int i = 0; i < n; ++i) {
    PendingRecipient p = recipient("d.example");
    GatewayDispatcher::Choice c = d.route(p, gw, 1000);
    EXPECT_EQ(c.route, Route::kSend);
    d.sent(domain, c.gateway, 1000);
    ++per_gateway[c.gateway];
  }
  return per_gateway;
}

// A throttled site costs (in flight there + 1) / rate at that gateway: the slower gateway that
// is not throttled takes the messages (it carries 10 at once) until its own backlog costs more
// than a place in the throttled queue.
TEST(GatewayDispatcher, AThrottledSiteCostsMoreAsItsInFlightGrowsSoEwmaSpillsOver) {
  GatewayDispatcher plain(2, ewma());
  FakeGateways gw(2);
  measure(plain, "d.example", {10, 200});
  EXPECT_EQ(spread(plain, gw, 10), (std::vector<size_t>{10, 0}));  // not throttled: all on the fast one
  GatewayDispatcher d(2, ewma());
  measure(d, "d.example", {10, 200});
  d.learnSite(d.table().domainId("d.example"), "gmail");
  // 2 per second: a message waits 500 ms there per one ahead of it, on top of its 10 ms. On
  // gateway 1 each message beyond 10 in flight waits 200 / 10 = 20 ms more.
  d.sites().report(0, report({"gmail", 0, 2'000, 0, proto::SiteStatus::kNoWarmupCap}), 1000);
  std::vector<size_t> per_gateway = spread(d, gw, 80);
  EXPECT_GE(per_gateway[0], 1u);  // still used, in proportion to what it allows
  EXPECT_LE(per_gateway[0], 5u);
  EXPECT_GE(per_gateway[1], 60u);
  EXPECT_EQ(d.sites().inFlight(0, d.sites().intern("gmail")), per_gateway[0]);
}

TEST(GatewayDispatcher, ComparisonPoliciesLeaveOutUnavailableGatewaysOnly) {
  for (SelectionPolicy policy : {SelectionPolicy::kLeastLoaded, SelectionPolicy::kRoundRobin, SelectionPolicy::kRandom}) {
    SelectionConfig config;
    config.selector.policy = policy;
    GatewayDispatcher d(2, config);
    FakeGateways gw(2);
    uint32_t domain = d.table().domainId("d.example");
    d.learnSite(domain, "gmail");
    d.sites().report(0, report(suspendedFor(60'000)), 1000);
    for (int i = 0; i < 6; ++i) {
      PendingRecipient p = recipient("d.example");
      GatewayDispatcher::Choice c = d.route(p, gw, 1000);
      ASSERT_EQ(c.route, Route::kSend) << selectionPolicyName(policy);
      EXPECT_EQ(c.gateway, 1u) << selectionPolicyName(policy);
      d.sent(domain, c.gateway, 1000);
    }
  }
}

// What was in flight to a domain before a RESULT named its site counts for that site from then.
TEST(GatewayDispatcher, InFlightFollowsADomainToTheSiteItLearns) {
  GatewayDispatcher d(2, ewma());
  uint32_t domain = d.table().domainId("d.example");
  d.sent(domain, 0, 1000);
  d.sent(domain, 0, 1000);
  d.sent(domain, 1, 1000);
  d.learnSite(domain, "gmail");
  uint32_t site = d.sites().intern("gmail");
  EXPECT_EQ(d.sites().inFlight(0, site), 2u);
  EXPECT_EQ(d.sites().inFlight(1, site), 1u);
  d.answered(domain, 0, 1000, 1000);
  d.dropped(domain, 1, 1000, 1000);
  EXPECT_EQ(d.sites().inFlight(0, site), 1u);
  EXPECT_EQ(d.sites().inFlight(1, site), 0u);
  d.sent(domain, 1, 1000);
  EXPECT_EQ(d.sites().sentSinceReport(1, site), 1u);
  // Another site for the domain (its MX moved): its in flight goes along.
  d.learnSite(domain, "yahoo");
  EXPECT_EQ(d.sites().inFlight(0, site), 0u);
  EXPECT_EQ(d.sites().inFlight(0, d.sites().intern("yahoo")), 1u);
}

}  // namespace
}  // namespace lbmail
