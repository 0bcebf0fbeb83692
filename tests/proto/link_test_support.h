// What the link tests share: a gateway that echoes RESULTs, an initiator that pumps SENDs, a
// hand-driven initiator over a blocking socket (TLS or not), and the fixture that runs each
// side on its own loop.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lbmail/proto/gateway_link.h"
#include "lbmail/proto/link_acceptor.h"
#include "events.h"
#include "loop_thread.h"
#include "tcp_client.h"

namespace lbmail::proto {

// Lets the test thread wait for something the loops do, without sleeping.
using test::Events;

// The gateway's name in these tests: its link identity.
constexpr const char* kGatewayName = "gw-test";
constexpr std::string_view kTestKey = "0123456789abcdef0123456789abcdef";

inline LinkSettings fastSettings(const char* name) {
  using namespace std::chrono_literals;
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
    events_.update([&] { cipher = link.cipherName(); });
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
    r.has_tls = with_tls;
    r.tls_version = "TLSv1.3";
    r.tls_verified = true;
    r.tls_policy = 3;
    if (with_shaping) {
      // Before the RESULT: the shaped sites and a REJECT naming its site (for no request).
      SitesFrame sites;
      sites.sites = {{"gmail", 1000, 0, 0, SiteStatus::kNoWarmupCap}};
      link.send(sites);
      link.send(RejectFrame{id + 1000, RejectReason::kSiteUnavailable, "site gmail suspended", true, "gmail"});
      r.has_shaping = true;
      r.reply_class = 1;
      r.site = "gmail";
    }
    link.send(r);
    events_.update([&] { --outstanding; });
    if (!draining) link.grantCredit(1);
  }

  Events& events_;
  uint32_t capacity_;
  bool hold = false;   // keep every request unanswered
  bool batch = false;  // answer in batches of `capacity_`
  bool draining = false;
  bool with_tls = false;  // RESULTs carry TLS fields (left out for a peer that did not ask)
  bool with_shaping = false;  // SITES, REJECT's site, RESULT's class and site (issue 20) too
  int ups = 0;
  int closes = 0;
  uint64_t sends = 0;
  int64_t outstanding = 0;
  int64_t max_outstanding = 0;
  std::deque<uint64_t> held;
  std::set<std::string> recipients;
  std::string last_close;
  std::string cipher;
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

  void onGatewayFailed(GatewayLink&, std::string_view reason) override {
    events_.update([&] {
      ++failures;
      last_failure = std::string(reason);
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
  int failures = 0;
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
  std::string last_failure;
  std::string goodbye;
};

class LinkTest : public ::testing::Test {
 protected:
  void startGateway(std::string_view key, LinkAcceptor::Handler& handler, std::vector<std::string> allowed = {},
                    uint16_t port = 0) {
    LinkAcceptorConfig config;
    config.listen = *SocketAddress::parse("127.0.0.1:" + std::to_string(port));
    config.link = fastSettings(kGatewayName);
    config.allowed_initiators = std::move(allowed);
    startGateway(key, handler, config);
  }

  void startGateway(std::string_view key, LinkAcceptor::Handler& handler, const LinkAcceptorConfig& config) {
    gw_security_ = LinkSecurity::fromKeyBytes(Role::kGateway, key, config.link.node_name);
    int rc = -1;
    gw_loop_.call([&] {
      acceptor_ = std::make_unique<LinkAcceptor>(gw_loop_.loop(), config, *gw_security_, handler);
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

  // An initiator that means the gateway of this name.
  void startInitiator(std::string_view key, GatewayLink::Handler& handler, const char* gateway_name = kGatewayName) {
    using namespace std::chrono_literals;
    init_security_ = LinkSecurity::fromKeyBytes(Role::kInitiator, key, gateway_name);
    GatewayLinkConfig config;
    config.gateway = gateway_addr_;
    config.link = fastSettings("init-test");
    config.reconnect_min = 20ms;
    config.reconnect_max = 200ms;
    init_loop_.call([&] {
      link_ = std::make_unique<GatewayLink>(init_loop_.loop(), config, *init_security_, handler);
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

  std::string key_{kTestKey};
  // Declared before the handlers and links that use them, so destroyed after them.
  std::unique_ptr<LinkSecurity> gw_security_;
  std::unique_ptr<LinkSecurity> init_security_;
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

// A hand-driven initiator over a blocking socket, to send what a well-behaved one never would:
// bytes in clear until tlsHandshake() succeeds, then everything through TLS.
class RawInitiator {
 public:
  RawInitiator(const SocketAddress& addr) : tcp_(addr) {}

  void send(const BufferList& frames) {
    std::string bytes;
    for (const uv_buf_t& b : frames.uvBufs()) {
      if (tls_) {
        tls_->write(reinterpret_cast<const uint8_t*>(b.base), b.len);
      } else {
        bytes.append(b.base, b.len);
      }
    }
    if (tls_) bytes = takeRecords(*tls_);
    ASSERT_TRUE(tcp_.send(bytes));
  }
  // Asks for new traffic keys both ways (RFC 8446 section 4.6.3); sent with the next frames.
  void requestKeyUpdate() { SSL_key_update(tls_->ssl(), SSL_KEY_UPDATE_REQUESTED); }
  // The TLS records of these frames, not sent: for tests that alter them on the way.
  std::string encrypt(const BufferList& frames) {
    for (const uv_buf_t& b : frames.uvBufs()) tls_->write(reinterpret_cast<const uint8_t*>(b.base), b.len);
    return takeRecords(*tls_);
  }
  template <typename F>
  void sendFrame(const F& f) {
    BufferList b;
    encodeFrame(b, f);
    send(b);
  }
  // The TLS handshake with this key for the gateway of this name; true when it completed.
  bool tlsHandshake(std::string_view key, const char* gateway_name = kGatewayName) {
    security_ = LinkSecurity::fromKeyBytes(Role::kInitiator, key, gateway_name);
    auto session = security_->newSession();
    for (;;) {
      tls::TlsSession::Status status = session->handshake();
      std::string records = takeRecords(*session);
      if (!records.empty() && !tcp_.send(records)) return false;
      if (status == tls::TlsSession::Status::kOk) break;
      if (status == tls::TlsSession::Status::kError) tls_error_ = session->error();
      if (status != tls::TlsSession::Status::kWantInput || !tcp_.receiveMore()) return false;
      session->feed(reinterpret_cast<const uint8_t*>(tcp_.received().data()), tcp_.received().size());
      tcp_.received().clear();
    }
    if (!security_->checkPeer(*session).empty()) return false;
    tls_ = std::move(session);
    return true;
  }
  // TLS, then the HELLOs; true when the gateway's HELLO arrived.
  bool handshake(std::string_view key, const char* gateway_name = kGatewayName, uint64_t capabilities = 0) {
    if (!tlsHandshake(key, gateway_name)) return false;
    sendFrame(HelloFrame{kProtocolVersion, "raw", Role::kInitiator, capabilities});
    auto hello = next();
    return hello && std::holds_alternative<HelloFrame>(*hello);
  }
  // The next frame from the gateway, or nullopt when the connection ends first.
  std::optional<Frame> next() {
    for (;;) {
      std::string& in = plain();
      SplitResult s = splitFrame(std::span(reinterpret_cast<const uint8_t*>(in.data()), in.size()), kDefaultMaxPayload);
      if (s.status == SplitStatus::kFrame) {
        payload_.assign(s.payload.begin(), s.payload.end());
        in.erase(0, s.consumed);
        auto f = decodePayload(s.header.type, payload_);
        if (!f) return std::nullopt;
        if (auto* g = std::get_if<GoodbyeFrame>(&*f)) goodbye_ = std::string(g->text);
        return *f;
      }
      if (s.status == SplitStatus::kError || !receiveMore()) return std::nullopt;
    }
  }
  // Reads frames until the gateway closes; returns the GOODBYE text, if one came.
  std::string goodbyeText() {
    while (next()) {
    }
    return goodbye_;
  }

  test::TcpClient tcp_;
  std::vector<uint8_t> payload_;
  std::string goodbye_ = "(no goodbye)";
  std::string tls_error_;  // why our side of the TLS handshake failed (an alert from the gateway)

 private:
  static std::string takeRecords(tls::TlsSession& session) {
    BufferList out;
    session.takeOutput(out);
    std::string records;
    for (const uv_buf_t& b : out.uvBufs()) records.append(b.base, b.len);
    return records;
  }
  std::string& plain() { return tls_ ? plain_ : tcp_.received(); }
  bool receiveMore() {
    if (!tcp_.receiveMore()) return false;
    if (!tls_) return true;
    tls_->feed(reinterpret_cast<const uint8_t*>(tcp_.received().data()), tcp_.received().size());
    tcp_.received().clear();
    uint8_t buf[16384];
    size_t got = 0;
    while (tls_->read(buf, sizeof buf, &got) == tls::TlsSession::Status::kOk) plain_.append(reinterpret_cast<char*>(buf), got);
    return true;
  }

  std::unique_ptr<LinkSecurity> security_;
  std::unique_ptr<tls::TlsSession> tls_;
  std::string plain_;
};

}  // namespace lbmail::proto
