// Tests for src/routing/destination_load.cc: in flight per destination (the domain, then its
// site once known) and per gateway, and each gateway's silence.
#include "lbmail/routing/destination_load.h"

#include <gtest/gtest.h>

#include <vector>

namespace lbmail {
namespace {

TEST(DestinationLoad, InFlightIsTheDomainsThenItsSitesOnceKnown) {
  DestinationLoad load(2);
  std::vector<GatewayLoad> l(2);
  load.sent(0, 7, 100);
  load.sent(0, 7, 100);
  load.sent(1, 9, 100);
  load.fill(7, 100, l);
  EXPECT_EQ(l[0].in_flight, 2u);
  EXPECT_EQ(l[1].in_flight, 0u);
  // Domains 7 and 9 turn out to share site 3: each counts the site's messages from now on,
  // including those sent before the site was known.
  load.setSite(7, 3);
  load.setSite(9, 3);
  load.fill(9, 100, l);
  EXPECT_EQ(l[0].in_flight, 2u);
  EXPECT_EQ(l[1].in_flight, 1u);
  load.answered(0, 7, 150);
  load.dropped(1, 9);
  load.fill(7, 150, l);
  EXPECT_EQ(l[0].in_flight, 1u);
  EXPECT_EQ(l[1].in_flight, 0u);
  EXPECT_EQ(load.inFlight(0), 1u);
  EXPECT_EQ(load.domainInFlight(7), 1u);
  EXPECT_EQ(load.domainInFlight(9), 0u);
  // A domain moved to another site takes its messages along.
  load.setSite(7, 4);
  load.fill(9, 150, l);
  EXPECT_EQ(l[0].in_flight, 0u);
  load.fill(7, 150, l);
  EXPECT_EQ(l[0].in_flight, 1u);
}

TEST(DestinationLoad, AGatewayIsSilentWhileItOwesAnswersAndAnswersNone) {
  DestinationLoad load(2);
  std::vector<GatewayLoad> l(2);
  load.sent(0, 1, 1000);
  load.fill(1, 1000, l);
  EXPECT_EQ(l[0].silent_ms, 0);
  load.fill(1, 1400, l);
  EXPECT_EQ(l[0].silent_ms, 400) << "silent since the SEND that found it idle";
  EXPECT_EQ(l[1].silent_ms, 0) << "nothing in flight: not silent, only idle";
  load.sent(0, 1, 1500);
  load.answered(0, 1, 1600);
  load.fill(1, 1700, l);
  EXPECT_EQ(l[0].silent_ms, 100) << "one answer back, one still owed";
  load.answered(0, 1, 1800);
  load.fill(1, 5000, l);
  EXPECT_EQ(l[0].silent_ms, 0);
  // Idle for long, then sent to again: its silence counts from that SEND.
  load.sent(0, 1, 6000);
  load.fill(1, 6050, l);
  EXPECT_EQ(l[0].silent_ms, 50);
}

}  // namespace
}  // namespace lbmail
