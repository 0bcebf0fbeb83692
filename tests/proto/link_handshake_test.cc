// Tests of the link handshake over real loopback sockets: authentication both ways, what is refused
// before it, the allow list and the handshake timeout.
#include <gtest/gtest.h>

#include "link_test_support.h"

namespace lbmail::proto {
namespace {

using namespace std::chrono_literals;

TEST_F(LinkTest, HandshakeSucceedsAndTheGatewaySpeaksFirst) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return gateway.ups == 1 && initiator.ups == 1 && initiator.catalog_size == 1; }));
  events_.locked([&] {
    EXPECT_EQ(initiator.gateway_name, "gw-test");
  });
  ASSERT_TRUE(events_.waitFor([&] { return initiator.credit_granted == 16; }));
  uint64_t credit = 0;
  init_loop_.call([&] { credit = link_->credit(); });
  EXPECT_EQ(credit, 16u);
}

TEST_F(LinkTest, WrongKeyOnTheGatewayIsRefusedByTheInitiator) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  PreSharedKey other = PreSharedKey::fromBytes("another key, 32 bytes long......");
  startGateway(other, gateway);
  startInitiator(key_, initiator);
  // The gateway proves first; the initiator refuses its proof and closes the link.
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes >= 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.ups, 0);
    EXPECT_EQ(initiator.ups, 0);
    EXPECT_NE(gateway.last_close.find("peer refused the link: gateway failed authentication"), std::string::npos)
        << gateway.last_close;
  });
}

TEST_F(LinkTest, WrongKeyOnTheInitiatorIsRefusedByTheGateway) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  PreSharedKey wrong = PreSharedKey::fromBytes("not the gateway's key, at all...");
  EXPECT_FALSE(raw.handshake(wrong));
  EXPECT_EQ(raw.goodbyeText(), "initiator failed authentication");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  events_.locked([&] {
    EXPECT_EQ(gateway.ups, 0);
  });
}

TEST_F(LinkTest, SendBeforeAuthenticationIsRefused) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  SendFrame send;
  send.request_id = 1;
  send.recipient = "victim@example.test";
  raw.sendFrame(send);
  EXPECT_EQ(raw.goodbyeText(), "SEND before authentication");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  events_.locked([&] {
    EXPECT_EQ(gateway.sends, 0u);
    EXPECT_EQ(gateway.ups, 0);
  });
}

TEST_F(LinkTest, TheGatewaysOwnProofReflectedBackIsRefused) {
  startGateway(key_, gateway_);
  RawInitiator raw(gateway_addr_);
  Nonce ni{};
  auto answer = openHandshake(raw, ni);
  ASSERT_TRUE(answer && answer->has_proof);
  raw.sendFrame(AuthResponseFrame{answer->proof});
  EXPECT_EQ(raw.goodbyeText(), "initiator failed authentication");
  EXPECT_TRUE(raw.tcp_.peerClosed());
}

TEST_F(LinkTest, RequestsBetweenChallengeAndProofAreRefused) {
  startGateway(key_, gateway_);
  RawInitiator raw(gateway_addr_);
  Nonce ni{};
  ASSERT_TRUE(openHandshake(raw, ni));
  SendFrame send;
  send.request_id = 7;
  send.recipient = "victim@example.test";
  raw.sendFrame(send);
  EXPECT_EQ(raw.goodbyeText(), "SEND before authentication");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  events_.locked([&] { EXPECT_EQ(gateway_.sends, 0u); });
}

TEST_F(LinkTest, HelloWithoutAProofIsRefused) {
  startGateway(key_, gateway_);
  RawInitiator raw(gateway_addr_);
  Nonce ni{};
  ASSERT_TRUE(openHandshake(raw, ni));
  raw.sendFrame(HelloFrame{kProtocolVersion, "sneaky", Role::kInitiator, 0});
  EXPECT_EQ(raw.goodbyeText(), "HELLO before authentication");
  events_.locked([&] { EXPECT_EQ(gateway_.ups, 0); });
}

TEST_F(LinkTest, LargeFramesBeforeAuthenticationAreRefusedFromTheHeader) {
  startGateway(key_, gateway_);
  RawInitiator raw(gateway_addr_);
  BufferList material;
  material.append("LB\x02\x05\x00\x00\x00\x00\x10\x00", 10);  // a 1 MiB MATERIAL, never sent in full
  raw.send(material);
  EXPECT_EQ(raw.goodbyeText(), "frame larger than the maximum");
  RawInitiator small(gateway_addr_);
  MaterialFrame m;
  small.sendFrame(m);
  EXPECT_EQ(small.goodbyeText(), "MATERIAL before authentication");
}

TEST_F(LinkTest, UnauthenticatedConnectionsDoNotTakeTheLinksSlots) {
  LinkAcceptorConfig config;
  config.listen = *SocketAddress::parse("127.0.0.1:0");
  config.link = fastSettings("gw-test");
  config.max_links = 1;
  gw_loop_.call([&] {
    acceptor_ = std::make_unique<LinkAcceptor>(gw_loop_.loop(), config, key_, gateway_);
    ASSERT_EQ(acceptor_->start(), 0);
    gateway_addr_ = acceptor_->boundAddress();
  });
  test::TcpClient idle1(gateway_addr_), idle2(gateway_addr_);  // connected, saying nothing
  ASSERT_TRUE(idle1.connected() && idle2.connected());
  startInitiator(key_, initiator_);
  ASSERT_TRUE(events_.waitFor([&] { return initiator_.ups == 1; }));
}

TEST_F(LinkTest, SilentPeerIsDroppedAfterTheHandshakeTimeout) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  test::TcpClient silent(gateway_addr_);
  ASSERT_TRUE(silent.connected());
  EXPECT_EQ(silent.readUntilClosed(), "");  // closed by the gateway after auth_timeout (2 s)
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes == 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.last_close, "handshake timed out");
  });
}

TEST_F(LinkTest, InitiatorNotOnTheAllowListIsRefusedBeforeTheHandshake) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway, {"127.0.0.99"});
  RawInitiator raw(gateway_addr_);
  EXPECT_FALSE(raw.handshake(key_));
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes == 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.last_close, "address not allowed");
  });
}

}  // namespace
}  // namespace lbmail::proto
