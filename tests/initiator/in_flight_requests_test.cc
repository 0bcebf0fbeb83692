// Tests for src/initiator/in_flight_requests.cc: answers only from the gateway that has the
// request, timeouts by send time, orphans of one gateway, and the gauge.
#include "in_flight_requests.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace lbmail {
namespace {

InFlightRequest request(uint64_t id, size_t gateway, uint64_t sent_ms) {
  InFlightRequest f;
  f.r.id = id;
  f.gateway = gateway;
  f.sent_ms = sent_ms;
  return f;
}

TEST(InFlightRequests, AnAnswerCountsOnlyFromTheGatewayThatHasTheRequest) {
  Gauge gauge;
  InFlightRequests in_flight(gauge);
  in_flight.add(100, request(1, 0, 10));
  in_flight.add(200, request(2, 1, 20));
  EXPECT_EQ(gauge.value(), 2);
  EXPECT_FALSE(in_flight.take(1, 100));  // late: gateway 1 does not have it
  std::optional<InFlightRequest> f = in_flight.take(0, 100);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->r.id, 1u);
  EXPECT_FALSE(in_flight.take(0, 100));  // answered once
  EXPECT_EQ(in_flight.size(), 1u);
  EXPECT_EQ(gauge.value(), 1);
}

TEST(InFlightRequests, TakesThoseSentBeforeATime) {
  Gauge gauge;
  InFlightRequests in_flight(gauge);
  in_flight.add(100, request(1, 0, 10));
  in_flight.add(200, request(2, 1, 20));
  in_flight.add(300, request(3, 1, 30));
  std::vector<InFlightRequest> old = in_flight.takeSentBefore(20);
  std::vector<uint64_t> ids;
  for (const InFlightRequest& f : old) ids.push_back(f.r.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(in_flight.size(), 1u);
  EXPECT_EQ(gauge.value(), 1);
}

TEST(InFlightRequests, OrphansAreTakenOnlyFromTheirGateway) {
  Gauge gauge;
  InFlightRequests in_flight(gauge);
  in_flight.add(100, request(1, 0, 10));
  in_flight.add(200, request(2, 1, 20));
  in_flight.add(300, request(3, 1, 30));
  std::vector<uint64_t> on_one = in_flight.idsOn(1);
  std::sort(on_one.begin(), on_one.end());
  EXPECT_EQ(on_one, (std::vector<uint64_t>{200, 300}));
  // 100 is on gateway 0, 400 is answered already.
  std::vector<uint64_t> orphans = {100, 200, 400};
  std::vector<InFlightRequest> taken = in_flight.takeOn(1, orphans);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].r.id, 2u);
  EXPECT_EQ(in_flight.size(), 2u);
}

}  // namespace
}  // namespace lbmail
