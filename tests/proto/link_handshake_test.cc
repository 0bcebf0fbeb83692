// Tests of the link handshake over real loopback sockets: TLS 1.3 with the key bound to the
// gateway's name, the HELLOs, what is refused before them, plaintext peers, tampering, the
// allow list and the handshake timeout.
#include <gtest/gtest.h>

#include "link_test_support.h"

namespace lbmail::proto {
namespace {

using namespace std::chrono_literals;

TEST_F(LinkTest, HandshakeSucceedsOverTls13AndTheGatewaySpeaksFirst) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return gateway.ups == 1 && initiator.ups == 1 && initiator.catalog_size == 1; }));
  events_.locked([&] {
    EXPECT_EQ(initiator.gateway_name, kGatewayName);
    EXPECT_EQ(gateway.cipher, "TLS_AES_128_GCM_SHA256");
  });
  ASSERT_TRUE(events_.waitFor([&] { return initiator.credit_granted == 16; }));
  uint64_t credit = 0;
  init_loop_.call([&] { credit = link_->credit(); });
  EXPECT_EQ(credit, 16u);
}

TEST_F(LinkTest, WrongKeyOnTheGatewayFailsTheTlsHandshake) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  startGateway("another key, 32 bytes long......", gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes >= 1 && initiator.failures >= 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.ups, 0);
    EXPECT_EQ(initiator.ups, 0);
    EXPECT_NE(gateway.last_close.find("TLS handshake failed"), std::string::npos) << gateway.last_close;
  });
}

TEST_F(LinkTest, WrongKeyOnTheInitiatorIsRefusedByTheGateway) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  EXPECT_FALSE(raw.tlsHandshake("not the gateway's key, at all..."));
  // The gateway says why before it closes: a TLS alert, not a bare close.
  EXPECT_NE(raw.tls_error_.find("alert"), std::string::npos) << raw.tls_error_;
  EXPECT_TRUE(raw.tcp_.peerClosed());
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes == 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.ups, 0);
    EXPECT_NE(gateway.last_close.find("TLS handshake failed"), std::string::npos) << gateway.last_close;
  });
}

TEST_F(LinkTest, AnInitiatorThatMeantAnotherGatewayCannotCompleteTheHandshake) {
  // Same key file, another gateway's name: the PSK differs, so a link cannot be spliced.
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  startInitiator(key_, initiator_, "gw-other");
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes >= 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.ups, 0);
    EXPECT_EQ(initiator_.ups, 0);
    EXPECT_NE(gateway.last_close.find("PSK identity 'lbmail-link/3 gw-other'"), std::string::npos)
        << gateway.last_close;
  });
}

TEST_F(LinkTest, AGatewayThatNamesItselfOtherwiseInItsHelloIsRefused) {
  // A gateway configured with the right key and name in TLS but another [node] name.
  LinkAcceptorConfig config;
  config.listen = *SocketAddress::parse("127.0.0.1:0");
  config.link = fastSettings("gw-impostor");
  gw_security_ = LinkSecurity::fromKeyBytes(Role::kGateway, key_, kGatewayName);
  gw_loop_.call([&] {
    acceptor_ = std::make_unique<LinkAcceptor>(gw_loop_.loop(), config, *gw_security_, gateway_);
    ASSERT_EQ(acceptor_->start(), 0);
    gateway_addr_ = acceptor_->boundAddress();
  });
  startInitiator(key_, initiator_);
  ASSERT_TRUE(events_.waitFor([&] { return gateway_.closes >= 1; }));
  events_.locked([&] {
    EXPECT_EQ(initiator_.ups, 0);
    EXPECT_NE(gateway_.last_close.find("gateway is not gw-test"), std::string::npos) << gateway_.last_close;
  });
}

TEST_F(LinkTest, SendBeforeHelloIsRefused) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.tlsHandshake(key_));
  SendFrame send;
  send.request_id = 1;
  send.recipient = "victim@example.test";
  raw.sendFrame(send);
  EXPECT_EQ(raw.goodbyeText(), "SEND before HELLO");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  events_.locked([&] {
    EXPECT_EQ(gateway.sends, 0u);
    EXPECT_EQ(gateway.ups, 0);
  });
}

TEST_F(LinkTest, HelloOfAnOlderVersionIsRefused) {
  startGateway(key_, gateway_);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.tlsHandshake(key_));
  raw.sendFrame(HelloFrame{2, "old", Role::kInitiator, 0});
  EXPECT_EQ(raw.goodbyeText(), "peer HELLO has the wrong role or version");
  events_.locked([&] { EXPECT_EQ(gateway_.ups, 0); });
}

TEST_F(LinkTest, APlaintextVersion2InitiatorGetsAGoodbyeItCanRead) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  test::TcpClient old(gateway_addr_);
  // Version 2's opening: AUTH_CHALLENGE (type 2) with a 32-byte nonce and no proof.
  std::string challenge("LB\x02\x02\x00\x00\x21\x00\x00\x00", 10);
  challenge += std::string(32, '\x5a') + std::string(1, '\0');
  ASSERT_TRUE(old.send(challenge));
  std::string answer = old.readUntilClosed();
  ASSERT_GE(answer.size(), 10u);
  EXPECT_EQ(answer.substr(0, 4), std::string("LB\x02\x0f", 4));  // a version-2 GOODBYE
  EXPECT_NE(answer.find("link version 3 needs TLS 1.3"), std::string::npos) << answer;
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes == 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.ups, 0);
    EXPECT_EQ(gateway.last_close, "peer speaks link version 2, without TLS");
  });
}

TEST_F(LinkTest, BytesThatAreNeitherTlsNorAnOldLinkAreDropped) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  test::TcpClient http(gateway_addr_);
  ASSERT_TRUE(http.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(http.readUntilClosed(), "");
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes == 1; }));
  events_.locked([&] { EXPECT_EQ(gateway.last_close, "peer does not speak TLS"); });
}

TEST_F(LinkTest, ATamperedRecordClosesTheLinkAndIsNotActedOn) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.handshake(key_));
  ASSERT_TRUE(events_.waitFor([&] { return gateway.ups == 1; }));
  // A SEND within credit, encrypted, with one bit of its ciphertext flipped on the way.
  SendFrame send;
  send.request_id = 9;
  send.recipient = "victim@example.test";
  BufferList plain;
  encodeFrame(plain, send);
  std::string records = raw.encrypt(plain);
  records[records.size() - 20] ^= 0x01;
  ASSERT_TRUE(raw.tcp_.send(records));
  EXPECT_EQ(raw.goodbyeText(), "(no goodbye)");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  ASSERT_TRUE(events_.waitFor([&] { return gateway.closes == 1; }));
  events_.locked([&] {
    EXPECT_EQ(gateway.sends, 0u);
    EXPECT_NE(gateway.last_close.find("TLS record refused"), std::string::npos) << gateway.last_close;
  });
}

TEST_F(LinkTest, LargeFramesBeforeHelloAreRefusedFromTheHeader) {
  startGateway(key_, gateway_);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.tlsHandshake(key_));
  BufferList material;
  material.append("LB\x03\x05\x00\x00\x00\x00\x10\x00", 10);  // a 1 MiB MATERIAL, never sent in full
  raw.send(material);
  EXPECT_EQ(raw.goodbyeText(), "frame larger than the maximum");
  RawInitiator small(gateway_addr_);
  ASSERT_TRUE(small.tlsHandshake(key_));
  MaterialFrame m;
  small.sendFrame(m);
  EXPECT_EQ(small.goodbyeText(), "MATERIAL before HELLO");
}

TEST_F(LinkTest, UnauthenticatedConnectionsDoNotTakeTheLinksSlots) {
  LinkAcceptorConfig config;
  config.listen = *SocketAddress::parse("127.0.0.1:0");
  config.link = fastSettings(kGatewayName);
  config.max_links = 1;
  startGateway(key_, gateway_, config);
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
