// Tests of the initiator–gateway link over real loopback sockets, each side on its own loop.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "lbmail/proto/gateway_link.h"
#include "lbmail/proto/link_acceptor.h"
#include "events.h"
#include "loop_thread.h"
#include "tcp_client.h"

namespace lbmail::proto {
namespace {

using namespace std::chrono_literals;

// Lets the test thread wait for something the loops do, without sleeping.
using test::Events;

LinkSettings fastSettings(const char* name) {
  LinkSettings s;
  s.node_name = name;
  s.auth_timeout = 2s;
  s.heartbeat_interval = 50ms;
  s.heartbeat_timeout = 2s;
  return s;
}

// A gateway that grants `capacity` credit, answers every SEND with a RESULT (or holds them when
// asked) and re-grants one credit per RESULT. It checks the credit rule itself too.
class EchoGateway : public LinkAcceptor::Handler {
 public:
  explicit EchoGateway(Events& events, uint32_t capacity = 16) : events_(events), capacity_(capacity) {}

  void onLinkUp(LinkConnection& link) override {
    CatalogFrame catalog;
    catalog.hashes.push_back(MediaHash{1, 2, 3});
    link.send(catalog);
    link.grantCredit(capacity_);
    events_.update([&] { ++ups; });
  }

  void onLinkFrame(LinkConnection& link, const Frame& frame) override {
    if (const auto* send = std::get_if<SendFrame>(&frame)) {
      events_.update([&] {
        ++sends;
        ++outstanding;
        max_outstanding = std::max(max_outstanding, outstanding);
        if (hold || batch) held.push_back(send->request_id);
        recipients.insert(std::string(send->recipient));
      });
      if (batch && held.size() == capacity_) {
        // Answer only once every granted credit is in use: the initiator must wait meanwhile.
        std::deque<uint64_t> ids;
        ids.swap(held);
        for (uint64_t id : ids) answer(link, id);
      } else if (!hold && !batch) {
        answer(link, send->request_id);
      }
    }
  }

  void onLinkClosed(LinkConnection&, std::string_view reason) override {
    events_.update([&] {
      ++closes;
      last_close = std::string(reason);
    });
  }

  void answer(LinkConnection& link, uint64_t id) {
    ResultFrame r;
    r.request_id = id;
    r.outcome = Outcome::kDelivered;
    r.smtp_code = 250;
    r.enhanced_code = "2.0.0";
    r.mx_host = "mx.test";
    link.send(r);
    events_.update([&] { --outstanding; });
    if (!draining) link.grantCredit(1);
  }

  Events& events_;
  uint32_t capacity_;
  bool hold = false;   // keep every request unanswered
  bool batch = false;  // answer in batches of `capacity_`
  bool draining = false;
  int ups = 0;
  int closes = 0;
  uint64_t sends = 0;
  int64_t outstanding = 0;
  int64_t max_outstanding = 0;
  std::deque<uint64_t> held;
  std::set<std::string> recipients;
  std::string last_close;
};

// An initiator that keeps sending while credit lasts, up to `to_send` requests.
class PumpingInitiator : public GatewayLink::Handler {
 public:
  explicit PumpingInitiator(Events& events, uint64_t to_send = 0) : events_(events), to_send_(to_send) {}

  void onGatewayUp(GatewayLink& link) override {
    events_.update([&] {
      ++ups;
      gateway_name = std::string(link.gatewayName());
    });
  }

  void onGatewayFrame(GatewayLink& link, const Frame& frame) override {
    if (const auto* c = std::get_if<CreditFrame>(&frame)) events_.update([&] { credit_granted += c->grant; });
    if (std::holds_alternative<CatalogFrame>(frame)) events_.update([&] { catalog_size = std::get<CatalogFrame>(frame).hashes.size(); });
    if (const auto* r = std::get_if<ResultFrame>(&frame)) {
      events_.update([&] {
        ++results;
        result_ids.insert(r->request_id);
      });
    }
    if (std::holds_alternative<DrainFrame>(frame)) {
      events_.update([&] {
        saw_drain = true;
        send_refused_while_draining = !link.sendRequest(request(next_id_));
      });
    }
    if (std::holds_alternative<GoodbyeFrame>(frame)) {
      events_.update([&] { goodbye = std::string(std::get<GoodbyeFrame>(frame).text); });
    }
    pump(link);
  }

  void onGatewayRtt(GatewayLink& link, uint64_t rtt_us) override {
    events_.update([&] {
      last_rtt_us = rtt_us;
      rtt_seen_by_link = link.rttMicros();
    });
  }

  void onGatewayDown(GatewayLink&, std::string_view reason) override {
    events_.update([&] {
      ++downs;
      last_down = std::string(reason);
    });
  }

  void pump(GatewayLink& link) {
    while (next_id_ < to_send_ && link.sendRequest(request(next_id_))) {
      events_.update([&] { ++sent; });
      ++next_id_;
    }
  }

  SendFrame request(uint64_t id) {
    SendFrame s;
    s.request_id = id;
    s.sender = "bounce@example.test";
    addresses_.push_back("r" + std::to_string(id) + "@example.test");
    s.recipient = addresses_.back();
    s.material_id = 1;
    return s;
  }

  Events& events_;
  uint64_t to_send_;
  uint64_t next_id_ = 0;
  std::deque<std::string> addresses_;
  int ups = 0;
  int downs = 0;
  uint64_t sent = 0;
  uint64_t results = 0;
  uint64_t credit_granted = 0;
  uint64_t last_rtt_us = 0;
  uint64_t rtt_seen_by_link = 0;
  size_t catalog_size = 0;
  bool saw_drain = false;
  bool send_refused_while_draining = false;
  std::set<uint64_t> result_ids;
  std::string gateway_name;
  std::string last_down;
  std::string goodbye;
};

class LinkTest : public ::testing::Test {
 protected:
  void startGateway(const PreSharedKey& key, LinkAcceptor::Handler& handler, std::vector<std::string> allowed = {},
                    uint16_t port = 0) {
    LinkAcceptorConfig config;
    config.listen = *SocketAddress::parse("127.0.0.1:" + std::to_string(port));
    config.link = fastSettings("gw-test");
    config.allowed_initiators = std::move(allowed);
    int rc = -1;
    gw_loop_.call([&] {
      acceptor_ = std::make_unique<LinkAcceptor>(gw_loop_.loop(), config, key, handler);
      rc = acceptor_->start();
      gateway_addr_ = acceptor_->boundAddress();
    });
    ASSERT_EQ(rc, 0);
  }

  void stopGateway() {
    std::atomic<bool> done{false};
    gw_loop_.call([&] { acceptor_->stop(GoodbyeReason::kShutdown, "test over", [&] { events_.update([&] { done = true; }); }); });
    ASSERT_TRUE(events_.waitFor([&] { return done.load(); }));
    gw_loop_.call([&] { acceptor_.reset(); });
  }

  void startInitiator(const PreSharedKey& key, GatewayLink::Handler& handler) {
    GatewayLinkConfig config;
    config.gateway = gateway_addr_;
    config.link = fastSettings("init-test");
    config.reconnect_min = 20ms;
    config.reconnect_max = 200ms;
    init_loop_.call([&] {
      link_ = std::make_unique<GatewayLink>(init_loop_.loop(), config, key, handler);
      link_->start();
    });
  }

  void TearDown() override {
    if (link_) {
      std::atomic<bool> done{false};
      init_loop_.call([&] { link_->stop([&] { events_.update([&] { done = true; }); }); });
      EXPECT_TRUE(events_.waitFor([&] { return done.load(); }));
      init_loop_.call([&] { link_.reset(); });
    }
    if (acceptor_) stopGateway();
    EXPECT_EQ(init_loop_.stop(), 0);
    EXPECT_EQ(gw_loop_.stop(), 0);
  }

  PreSharedKey key_ = PreSharedKey::fromBytes("0123456789abcdef0123456789abcdef");
  Events events_;
  // The handlers outlive TearDown, which still delivers the links' last callbacks to them.
  EchoGateway gateway_{events_};
  PumpingInitiator initiator_{events_};
  test::LoopThread gw_loop_;
  test::LoopThread init_loop_;
  std::unique_ptr<LinkAcceptor> acceptor_;
  std::unique_ptr<GatewayLink> link_;
  SocketAddress gateway_addr_;
};

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

TEST_F(LinkTest, HeartbeatsMeasureTheLinkRoundTrip) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return initiator.last_rtt_us > 0; }));
  events_.locked([&] {
    EXPECT_EQ(initiator.rtt_seen_by_link, initiator.last_rtt_us);
    EXPECT_LT(initiator.last_rtt_us, 2'000'000u);  // a loopback round trip, well inside the heartbeat timeout
  });
}

TEST_F(LinkTest, RequestsFlowAndResultsComeBack) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  initiator.to_send_ = 100;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return initiator.results == 100; }));
  events_.locked([&] {
    EXPECT_EQ(initiator.result_ids.size(), 100u);
    EXPECT_EQ(gateway.recipients.size(), 100u);
    EXPECT_TRUE(gateway.recipients.count("r99@example.test"));
  });
}

TEST_F(LinkTest, CreditIsNeverExceededWhenTheInitiatorHasFarMoreToSend) {
  EchoGateway& gateway = gateway_;
  gateway.capacity_ = 8;
  gateway.batch = true;
  PumpingInitiator& initiator = initiator_;
  initiator.to_send_ = 5000;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return initiator.results == 5000; }));
  events_.locked([&] {
    EXPECT_LE(gateway.max_outstanding, 8);
    EXPECT_EQ(gateway.max_outstanding, 8);  // and the credit was used in full
    EXPECT_EQ(gateway.closes, 0);            // no credit violation closed the link
    EXPECT_EQ(initiator.downs, 0);
  });
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

// A hand-driven initiator over a plain socket, to send what a well-behaved one never would.
class RawInitiator {
 public:
  RawInitiator(const SocketAddress& addr) : tcp_(addr) {}

  void send(const BufferList& frames) {
    std::string bytes;
    for (const uv_buf_t& b : frames.uvBufs()) bytes.append(b.base, b.len);
    ASSERT_TRUE(tcp_.send(bytes));
  }
  template <typename F>
  void sendFrame(const F& f) {
    BufferList b;
    encodeFrame(b, f);
    send(b);
  }
  // The next frame from the gateway, or nullopt when the connection ends first.
  std::optional<Frame> next() {
    for (;;) {
      std::string& in = tcp_.received();
      SplitResult s = splitFrame(std::span(reinterpret_cast<const uint8_t*>(in.data()), in.size()), kDefaultMaxPayload);
      if (s.status == SplitStatus::kFrame) {
        payload_.assign(s.payload.begin(), s.payload.end());
        in.erase(0, s.consumed);
        auto f = decodePayload(s.header.type, payload_);
        if (!f) return std::nullopt;
        if (auto* g = std::get_if<GoodbyeFrame>(&*f)) goodbye_ = std::string(g->text);
        return *f;
      }
      if (s.status == SplitStatus::kError || !tcp_.receiveMore()) return std::nullopt;
    }
  }
  // Reads frames until the gateway closes; returns the GOODBYE text, if one came.
  std::string goodbyeText() {
    while (next()) {
    }
    return goodbye_;
  }
  // Runs the initiator's half of the handshake with key; true when the gateway's HELLO arrived.
  bool handshake(const PreSharedKey& key) {
    AuthChallengeFrame c;
    c.nonce = PreSharedKey::freshNonce();
    sendFrame(c);
    auto answer = next();
    if (!answer || !std::holds_alternative<AuthChallengeFrame>(*answer)) return false;
    Nonce gateway_nonce = std::get<AuthChallengeFrame>(*answer).nonce;
    sendFrame(AuthResponseFrame{key.prove(Role::kInitiator, c.nonce, gateway_nonce)});
    sendFrame(HelloFrame{kProtocolVersion, "raw", Role::kInitiator, 0});
    auto hello = next();
    return hello && std::holds_alternative<HelloFrame>(*hello);
  }

  test::TcpClient tcp_;
  std::vector<uint8_t> payload_;
  std::string goodbye_ = "(no goodbye)";
};

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

// The gateway's answer to a fresh challenge, for the tests that go wrong after it.
std::optional<AuthChallengeFrame> openHandshake(RawInitiator& raw, Nonce& initiator_nonce) {
  AuthChallengeFrame c;
  c.nonce = initiator_nonce = PreSharedKey::freshNonce();
  raw.sendFrame(c);
  auto answer = raw.next();
  if (!answer || !std::holds_alternative<AuthChallengeFrame>(*answer)) return std::nullopt;
  return std::get<AuthChallengeFrame>(*answer);
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
  material.append("LB\x01\x05\x00\x00\x00\x00\x10\x00", 10);  // a 1 MiB MATERIAL, never sent in full
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

TEST_F(LinkTest, RequestsOverAProtocolLimitAreRefusedAtTheInitiator) {
  startGateway(key_, gateway_);
  startInitiator(key_, initiator_);
  ASSERT_TRUE(events_.waitFor([&] { return initiator_.credit_granted > 0; }));
  std::string huge(kMaxFieldValueBytes + 1, 'v');
  MergeField field{"big", huge};
  SendFrame send;
  send.request_id = 1;
  send.recipient = "a@example.test";
  send.fields = MergeFields(std::span<const MergeField>(&field, 1));
  EXPECT_STREQ(LinkConnection::requestProblem(send, kDefaultMaxPayload), "merge field value longer than 64 KiB");
  bool sent = true;
  bool up = false;
  init_loop_.call([&] {
    sent = link_->sendRequest(send);
    up = link_->isUp();
  });
  EXPECT_FALSE(sent);
  EXPECT_TRUE(up);  // the link is not torn down by a request the gateway would refuse
}

TEST_F(LinkTest, SendBeyondCreditIsAProtocolViolation) {
  EchoGateway& gateway = gateway_;
  gateway.capacity_ = 1;
  gateway.hold = true;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.handshake(key_));
  SendFrame send;
  send.request_id = 1;
  raw.sendFrame(send);  // within the one credit
  send.request_id = 2;
  raw.sendFrame(send);  // beyond it
  EXPECT_EQ(raw.goodbyeText(), "SEND beyond granted credit");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  events_.locked([&] {
    EXPECT_EQ(gateway.sends, 1u);
  });
}

TEST_F(LinkTest, MalformedFrameAfterHandshakeClosesTheLinkNotTheProcess) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.handshake(key_));
  BufferList junk;
  junk.append("LB\x01\x06\x00\x00\x03\x00\x00\x00\xff\xff\xff", 13);  // SEND with a broken varint
  raw.send(junk);
  EXPECT_EQ(raw.goodbyeText(), "malformed SEND: truncated varint");
  EXPECT_TRUE(raw.tcp_.peerClosed());
  // The gateway still serves others.
  RawInitiator next(gateway_addr_);
  EXPECT_TRUE(next.handshake(key_));
}

TEST_F(LinkTest, OversizeFrameIsRefusedFromItsHeader) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  BufferList huge;
  huge.append("LB\x01\x06\x00\x00\xff\xff\xff\x7f", 10);  // claims 2 GiB
  raw.send(huge);
  EXPECT_EQ(raw.goodbyeText(), "frame larger than the maximum");
  EXPECT_TRUE(raw.tcp_.peerClosed());
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

TEST_F(LinkTest, HeartbeatTimeoutKillsALinkWhosePeerStopsResponding) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return initiator.ups == 1; }));
  // Freeze the gateway's loop: it neither reads nor answers PINGs, like a hung process.
  std::mutex freeze;
  std::unique_lock held(freeze);
  std::thread blocker([&] { gw_loop_.call([&] { std::lock_guard wait(freeze); }); });
  ASSERT_TRUE(events_.waitFor([&] { return initiator.downs == 1; }));
  events_.locked([&] {
    EXPECT_NE(initiator.last_down.find("heartbeat timeout"), std::string::npos) << initiator.last_down;
  });
  held.unlock();
  blocker.join();
}

TEST_F(LinkTest, InitiatorReconnectsAfterTheGatewayRestarts) {
  EchoGateway& gateway = gateway_;
  PumpingInitiator& initiator = initiator_;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return initiator.ups == 1; }));
  uint16_t port = gateway_addr_.port();
  stopGateway();
  ASSERT_TRUE(events_.waitFor([&] { return initiator.downs == 1; }));
  events_.locked([&] {
    EXPECT_EQ(initiator.goodbye, "test over");
  });
  startGateway(key_, gateway, {}, port);
  ASSERT_TRUE(events_.waitFor([&] { return initiator.ups == 2 && gateway.ups == 2; }));
}

TEST_F(LinkTest, DrainFinishesTheRequestsInFlight) {
  EchoGateway& gateway = gateway_;
  gateway.capacity_ = 5;
  gateway.hold = true;
  PumpingInitiator& initiator = initiator_;
  initiator.to_send_ = 50;
  startGateway(key_, gateway);
  startInitiator(key_, initiator);
  ASSERT_TRUE(events_.waitFor([&] { return gateway.sends == 5; }));
  // Drain: say so, stop accepting, finish what is in flight, then GOODBYE.
  gw_loop_.call([&] {
    gateway.draining = true;
    acceptor_->stopAccepting();
    acceptor_->forEachLink([&](LinkConnection& link) {
      link.send(DrainFrame{});
      for (uint64_t id : gateway.held) gateway.answer(link, id);
      gateway.held.clear();
      link.close(GoodbyeReason::kDrained, "drained");
    });
  });
  ASSERT_TRUE(events_.waitFor([&] { return initiator.downs == 1; }));
  events_.locked([&] {
    EXPECT_EQ(initiator.results, 5u);
    EXPECT_TRUE(initiator.saw_drain);
    EXPECT_TRUE(initiator.send_refused_while_draining);
    EXPECT_EQ(initiator.sent, 5u);
    EXPECT_EQ(initiator.goodbye, "drained");
  });
}

TEST(GatewayLinkBackoff, DoublesFromTheMinimumUpToTheMaximumWithJitter) {
  Duration min = 100ms, max = 10s;
  EXPECT_EQ(GatewayLink::reconnectDelay(1, min, max, 1.0), Duration(100ms));
  EXPECT_EQ(GatewayLink::reconnectDelay(2, min, max, 1.0), Duration(200ms));
  EXPECT_EQ(GatewayLink::reconnectDelay(5, min, max, 1.0), Duration(1600ms));
  EXPECT_EQ(GatewayLink::reconnectDelay(8, min, max, 1.0), Duration(10s));   // 12.8 s capped
  EXPECT_EQ(GatewayLink::reconnectDelay(1000, min, max, 1.0), Duration(10s));
  EXPECT_EQ(GatewayLink::reconnectDelay(1, min, max, 0.5), Duration(50ms));  // the lower half is never used
  EXPECT_EQ(GatewayLink::reconnectDelay(1, min, max, 0.0), Duration(50ms));
}

}  // namespace
}  // namespace lbmail::proto
