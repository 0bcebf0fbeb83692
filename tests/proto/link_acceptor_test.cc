// Tests for src/proto/link_acceptor.cc: handshake admission. A connection beyond the share of
// its address or beyond the pool is admitted, and the oldest silent handshake goes instead.
#include <gtest/gtest.h>

#include <vector>

#include "link_test_support.h"

namespace lbmail::proto {
namespace {

using namespace std::chrono_literals;

// Remembers which handshakes the gateway ended, by the peer's port, in order.
class ClosedHandshakes : public LinkAcceptor::Handler {
 public:
  explicit ClosedHandshakes(Events& events) : events_(events) {}
  void onLinkUp(LinkConnection&) override { events_.update([&] { ++ups; }); }
  void onLinkFrame(LinkConnection&, const Frame&) override {}
  void onLinkClosed(LinkConnection& link, std::string_view reason) override {
    events_.update([&] { closed.emplace_back(link.peerAddress().port(), std::string(reason)); });
  }

  Events& events_;
  int ups = 0;
  std::vector<std::pair<uint16_t, std::string>> closed;
};

class LinkAcceptorTest : public LinkTest {
 protected:
  void startAcceptor(uint32_t per_address, uint32_t pool) {
    LinkAcceptorConfig config;
    config.listen = *SocketAddress::parse("127.0.0.1:0");
    config.link = fastSettings(kGatewayName);
    config.link.auth_timeout = 60s;  // no handshake ends by itself while a test runs
    config.max_handshakes_per_address = per_address;
    config.max_handshakes = pool;
    startGateway(key_, closed_, config);
  }

  // A silent connection from host (127.0.0.N: every one is loopback).
  std::unique_ptr<test::TcpClient> silent(const char* host) {
    auto c = std::make_unique<test::TcpClient>(gateway_addr_, *SocketAddress::parse(std::string(host) + ":0"));
    EXPECT_TRUE(c->connected());
    return c;
  }

  // A connection from 127.0.0.1 that has spoken, and that the gateway has heard: its TLS
  // handshake is complete, its HELLO not yet sent.
  std::unique_ptr<RawInitiator> speaking() {
    auto raw = std::make_unique<RawInitiator>(gateway_addr_);
    EXPECT_TRUE(raw->tlsHandshake(key_));
    return raw;
  }

  // The port of the n-th handshake the gateway ended (from 1), once it has ended n; the reason
  // must be `reason`. Close callbacks do not keep the order of the closes: wait for each.
  uint16_t closedPort(size_t n, const std::string& reason) {
    uint16_t port = 0;
    EXPECT_TRUE(events_.waitFor([&] { return closed_.closed.size() >= n; }));
    events_.locked([&] {
      if (closed_.closed.size() < n) return;
      port = closed_.closed[n - 1].first;
      EXPECT_EQ(closed_.closed[n - 1].second, reason);
    });
    return port;
  }

  static uint16_t port(const test::TcpClient& c) { return c.localAddress().port(); }

  ClosedHandshakes closed_{events_};
};

TEST_F(LinkAcceptorTest, AnAddressBeyondItsShareLosesItsOldestSilentHandshake) {
  startAcceptor(/*per_address=*/2, /*pool=*/16);
  auto talker = speaking();  // the oldest, but it has spoken
  auto a2 = silent("127.0.0.1");
  auto a3 = silent("127.0.0.1");  // evicts a2, not the talker
  const std::string why = "evicted: max_handshakes_per_address reached";
  EXPECT_EQ(closedPort(1, why), port(*a2));
  auto b1 = silent("127.0.0.2");  // another address: its own share
  auto b2 = silent("127.0.0.2");
  auto a4 = silent("127.0.0.1");  // evicts a3
  EXPECT_EQ(closedPort(2, why), port(*a3));
  // The talker finishes its handshake: it was never at risk.
  talker->sendFrame(HelloFrame{kProtocolVersion, "raw", Role::kInitiator, 0});
  auto hello = talker->next();
  ASSERT_TRUE(hello && std::holds_alternative<HelloFrame>(*hello));
  events_.locked([&] { EXPECT_EQ(closed_.closed.size(), 2u); });
}

TEST_F(LinkAcceptorTest, AFullPoolTakesFromTheAddressHoldingMostHandshakes) {
  startAcceptor(/*per_address=*/8, /*pool=*/3);
  auto b1 = silent("127.0.0.2");
  auto talker = speaking();
  auto a2 = silent("127.0.0.1");
  const std::string why = "evicted: max_handshakes reached";
  auto c1 = silent("127.0.0.3");  // full: 127.0.0.1 holds most (the talker and a2); a2 is silent
  EXPECT_EQ(closedPort(1, why), port(*a2));
  auto c2 = silent("127.0.0.3");  // one each: the oldest silent one anywhere, b1
  EXPECT_EQ(closedPort(2, why), port(*b1));
  auto c3 = silent("127.0.0.3");  // 127.0.0.3 holds most: its oldest, c1
  EXPECT_EQ(closedPort(3, why), port(*c1));
}

TEST_F(LinkAcceptorTest, AFewBytesShortOfAClientHelloStillCountAsSilent) {
  startAcceptor(/*per_address=*/2, /*pool=*/16);
  auto talker = speaking();  // a whole ClientHello, answered
  auto mumbler = silent("127.0.0.1");
  ASSERT_TRUE(mumbler->send(std::string("\x16\x03\x01", 3)));  // the start of a record, no more
  auto newcomer = silent("127.0.0.1");
  EXPECT_EQ(closedPort(1, "evicted: max_handshakes_per_address reached"), port(*mumbler));
}

TEST_F(LinkAcceptorTest, WhenEveryHandshakeHasSpokenTheOldestGoes) {
  startAcceptor(/*per_address=*/2, /*pool=*/16);
  auto first = speaking();
  auto second = speaking();
  auto third = silent("127.0.0.1");
  EXPECT_EQ(closedPort(1, "evicted: max_handshakes_per_address reached"), port(first->tcp_));
  EXPECT_FALSE(first->next());  // the gateway closed it
}

}  // namespace
}  // namespace lbmail::proto
