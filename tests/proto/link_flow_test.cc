// Tests of an established link over real loopback sockets: requests and credit, heartbeats, frames
// the peer should not send, reconnection, drain and the reconnect backoff.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "link_test_support.h"

namespace lbmail::proto {
namespace {

using namespace std::chrono_literals;

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
  EXPECT_STREQ(requestProblem(send, kDefaultMaxPayload), "merge field value longer than 64 KiB");
  bool sent = true;
  bool up = false;
  init_loop_.call([&] {
    sent = link_->sendRequest(send);
    up = link_->isUp();
  });
  EXPECT_FALSE(sent);
  EXPECT_TRUE(up);  // the link is not torn down by a request the gateway would refuse
}

TEST_F(LinkTest, AKeyUpdateMidLinkKeepsTheLinkWorking) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.handshake(key_));
  for (uint64_t id = 1; id <= 3; ++id) {
    raw.requestKeyUpdate();  // the gateway must answer with its own and switch keys both ways
    SendFrame send;
    send.request_id = id;
    send.recipient = "someone@example.test";
    raw.sendFrame(send);
    std::optional<Frame> frame;
    do {
      frame = raw.next();
    } while (frame && !std::holds_alternative<ResultFrame>(*frame));
    ASSERT_TRUE(frame) << "no RESULT after key update " << id << ": " << raw.goodbye_;
    EXPECT_EQ(std::get<ResultFrame>(*frame).request_id, id);
  }
  events_.locked([&] { EXPECT_EQ(gateway.closes, 0); });
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

// RESULT's TLS fields reach an initiator that announced it reads them; one whose HELLO did not
// (an initiator from before issue 19, which refuses bytes after the timings) gets the RESULT
// without them.
TEST_F(LinkTest, ResultTlsFieldsGoOnlyToInitiatorsThatAskedForThem) {
  EchoGateway& gateway = gateway_;
  gateway.with_tls = true;
  startGateway(key_, gateway);
  auto resultFor = [&](uint64_t capabilities) -> std::optional<std::pair<ResultFrame, size_t>> {
    RawInitiator raw(gateway_addr_);
    if (!raw.handshake(key_, kGatewayName, capabilities)) return std::nullopt;
    SendFrame send;
    send.request_id = 5;
    raw.sendFrame(send);
    while (auto f = raw.next()) {
      if (const auto* r = std::get_if<ResultFrame>(&*f)) {
        ResultFrame copy = *r;
        copy.tls_version = copy.tls_version.empty() ? "" : "TLSv1.3";  // its view dies with raw
        return std::make_pair(copy, raw.payload_.size());
      }
    }
    return std::nullopt;
  };
  auto old_peer = resultFor(0);
  ASSERT_TRUE(old_peer);
  EXPECT_FALSE(old_peer->first.has_tls);
  auto new_peer = resultFor(kCapabilityResultTls);
  ASSERT_TRUE(new_peer);
  EXPECT_TRUE(new_peer->first.has_tls);
  EXPECT_EQ(new_peer->first.tls_version, "TLSv1.3");
  EXPECT_TRUE(new_peer->first.tls_verified);
  EXPECT_EQ(new_peer->first.tls_policy, 3);
  // The older initiator's payload ends after the timings: version, flags and policy left out.
  EXPECT_EQ(new_peer->second - old_peer->second, 1 + 7 + 1 + 1u);
}

// Issue 20's fields and frame reach only an initiator whose HELLO has kCapabilityShaping: an
// older one gets no SITES frame (a type it does not know), a REJECT without a site and with
// kSiteUnavailable said as kOverCapacity, and a RESULT that ends after the TLS fields.
TEST_F(LinkTest, ShapingFieldsAndSitesGoOnlyToInitiatorsThatAskedForThem) {
  EchoGateway& gateway = gateway_;
  gateway.with_tls = true;
  gateway.with_shaping = true;
  startGateway(key_, gateway);
  struct Seen {
    int sites = 0;
    RejectReason reject = RejectReason::kOther;
    bool reject_site = false;
    bool result_tls = false;
    bool result_shaping = false;
    int reply_class = 0;
    std::string site;
  };
  auto seenBy = [&](uint64_t capabilities) {
    Seen seen;
    RawInitiator raw(gateway_addr_);
    EXPECT_TRUE(raw.handshake(key_, kGatewayName, capabilities));
    SendFrame send;
    send.request_id = 5;
    raw.sendFrame(send);
    while (auto f = raw.next()) {
      if (const auto* s = std::get_if<SitesFrame>(&*f)) {
        seen.sites += static_cast<int>(s->sites.size());
      } else if (const auto* j = std::get_if<RejectFrame>(&*f)) {
        seen.reject = j->reason;
        seen.reject_site = j->has_site;
      } else if (const auto* r = std::get_if<ResultFrame>(&*f)) {
        seen.result_tls = r->has_tls;
        seen.result_shaping = r->has_shaping;
        seen.reply_class = r->reply_class;
        seen.site = std::string(r->site);
        break;
      }
    }
    return seen;
  };
  Seen older = seenBy(kCapabilityResultTls);
  EXPECT_EQ(older.sites, 0);
  EXPECT_EQ(older.reject, RejectReason::kOverCapacity);
  EXPECT_FALSE(older.reject_site);
  EXPECT_TRUE(older.result_tls);
  EXPECT_FALSE(older.result_shaping);
  Seen oldest = seenBy(0);
  EXPECT_FALSE(oldest.result_tls);
  EXPECT_FALSE(oldest.result_shaping);
  Seen shaping = seenBy(kCapabilityResultTls | kCapabilityShaping);
  EXPECT_EQ(shaping.sites, 1);
  EXPECT_EQ(shaping.reject, RejectReason::kSiteUnavailable);
  EXPECT_TRUE(shaping.reject_site);
  EXPECT_TRUE(shaping.result_shaping);
  EXPECT_EQ(shaping.reply_class, 1);
  EXPECT_EQ(shaping.site, "gmail");
}

TEST_F(LinkTest, MalformedFrameAfterHandshakeClosesTheLinkNotTheProcess) {
  EchoGateway& gateway = gateway_;
  startGateway(key_, gateway);
  RawInitiator raw(gateway_addr_);
  ASSERT_TRUE(raw.handshake(key_));
  BufferList junk;
  junk.append("LB\x03\x06\x00\x00\x03\x00\x00\x00\xff\xff\xff", 13);  // SEND with a broken varint
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
  ASSERT_TRUE(raw.handshake(key_));
  BufferList huge;
  huge.append("LB\x03\x06\x00\x00\xff\xff\xff\x7f", 10);  // claims 2 GiB
  raw.send(huge);
  EXPECT_EQ(raw.goodbyeText(), "frame larger than the maximum");
  EXPECT_TRUE(raw.tcp_.peerClosed());
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
