// The initiator's link to one gateway: keeps it connected (reconnecting with jittered
// exponential backoff), sends requests within the gateway's credit, reports what comes back.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/proto/link_connection.h"

namespace lbmail::proto {

struct GatewayLinkConfig {
  SocketAddress gateway;
  LinkSettings link;
  Duration reconnect_min = std::chrono::milliseconds(100);
  Duration reconnect_max = std::chrono::seconds(10);
};

class GatewayLink final : private LinkConnection::Handler {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void onGatewayUp(GatewayLink&) {}
    // CATALOG, ACCEPT, REJECT, RESULT, CREDIT, LOAD, DRAIN, GOODBYE, HANDOVER, SITES. Views die
    // on return.
    virtual void onGatewayFrame(GatewayLink& link, const Frame& frame) = 0;
    // A heartbeat measured the link's round trip, microseconds.
    virtual void onGatewayRtt(GatewayLink&, uint64_t rtt_us) { (void)rtt_us; }
    // The link went down; requests still in flight on it will get no RESULT.
    virtual void onGatewayDown(GatewayLink&, std::string_view reason) { (void)reason; }
    // A try to connect failed before the link was up (it is tried again later).
    virtual void onGatewayFailed(GatewayLink&, std::string_view reason) { (void)reason; }
  };

  GatewayLink(uv_loop_t* loop, GatewayLinkConfig config, const LinkSecurity& security, Handler& handler);
  GatewayLink(const GatewayLink&) = delete;
  GatewayLink& operator=(const GatewayLink&) = delete;
  ~GatewayLink();

  void start();
  // Closes the link (GOODBYE) and stops reconnecting; done runs when every handle is closed.
  void stop(std::function<void()> done);

  bool isUp() const { return link_ && link_->state() == LinkConnection::State::kOpen; }
  bool draining() const { return draining_; }
  // SENDs the initiator may still put on this link now.
  uint64_t credit() const { return isUp() && !draining_ ? link_->credit() : 0; }
  // A SEND within credit; false when down, draining or out of credit.
  bool sendRequest(const SendFrame& frame);
  // Any other frame to the gateway (MATERIAL); false when the link is not up.
  template <typename F>
  bool send(const F& frame) {
    if (!isUp()) return false;
    link_->send(frame);
    return true;
  }

  const SocketAddress& address() const { return config_.gateway; }
  std::string_view gatewayName() const { return link_ ? std::string_view(link_->peerName()) : std::string_view(); }
  uint64_t rttMicros() const { return link_ ? link_->rttMicros() : 0; }
  // The capability bits of the gateway's HELLO (kCapability*); 0 while down.
  uint64_t peerCapabilities() const { return isUp() ? link_->peerCapabilities() : 0; }
  uint64_t connects() const { return connects_; }
  // Octets on the wire over every connection so far (the control traffic the link costs).
  uint64_t bytesSent() const { return bytes_sent_before_ + (link_ ? link_->bytesSent() : 0); }
  uint64_t bytesReceived() const { return bytes_received_before_ + (link_ ? link_->bytesReceived() : 0); }

  // The wait before reconnect attempt number `failures` (1 = first): reconnect_min doubled per
  // failure up to reconnect_max, scaled by jitter in [0.5, 1] so that many initiators do not
  // reconnect in step after a gateway restart.
  static Duration reconnectDelay(uint32_t failures, Duration min, Duration max, double jitter);

 private:
  void onLinkUp(LinkConnection& link) override;
  void onLinkFrame(LinkConnection& link, const Frame& frame) override;
  void onLinkClosed(LinkConnection& link, std::string_view reason) override;
  void onLinkRtt(LinkConnection& link, uint64_t rtt_us) override;

  static void onRetryTimer(uv_timer_t* timer);
  void connectNow();
  void scheduleReconnect();
  void maybeFinishStop();

  uv_loop_t* loop_;
  GatewayLinkConfig config_;
  const LinkSecurity& security_;
  Handler& handler_;
  std::unique_ptr<LinkConnection> link_;
  uv_timer_t retry_timer_;
  HandleCloser closer_;
  bool timer_open_ = true;
  bool stopping_ = false;
  bool was_up_ = false;
  bool draining_ = false;
  uint32_t failures_ = 0;
  uint64_t connects_ = 0;
  uint64_t bytes_sent_before_ = 0;  // of connections already closed
  uint64_t bytes_received_before_ = 0;
  DoneCallbacks stop_done_;
  std::minstd_rand jitter_;
};

}  // namespace lbmail::proto
