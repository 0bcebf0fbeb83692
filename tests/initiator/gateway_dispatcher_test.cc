// Tests for src/initiator/gateway_dispatcher.cc over fake gateways (up, credit, media per
// gateway; no sockets): probes for an unknown domain, parking for a better gateway's credit,
// avoid_gateway, gateways that refused a recipient by policy, missing media, and a gateway that
// is down.
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
    d.sent(p.domain_id, c.gateway);
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
  d.answered(p.domain_id, 0);
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
  d.sent(a, 1);
  d.sent(b, 1);
  d.sent(b, 0);
  EXPECT_EQ(d.inFlight(0), 1u);
  EXPECT_EQ(d.inFlight(1), 2u);
  d.answered(a, 1);
  d.dropped(b, 1);
  EXPECT_EQ(d.inFlight(1), 0u);
}

}  // namespace
}  // namespace lbmail
