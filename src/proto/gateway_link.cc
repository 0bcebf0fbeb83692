// The initiator's self-healing link to one gateway.
#include "lbmail/proto/gateway_link.h"

#include <algorithm>
#include <cassert>

#include "lbmail/core/log.h"

namespace lbmail::proto {

GatewayLink::GatewayLink(uv_loop_t* loop, GatewayLinkConfig config, const LinkSecurity& security, Handler& handler)
    : loop_(loop),
      config_(std::move(config)),
      security_(security),
      handler_(handler),
      jitter_(static_cast<uint32_t>(uv_hrtime())) {
  uv_timer_init(loop_, &retry_timer_);
  retry_timer_.data = this;
}

GatewayLink::~GatewayLink() { assert(!link_ && !timer_open_ && "stop() the link and run the loop first"); }

void GatewayLink::start() { connectNow(); }

void GatewayLink::connectNow() {
  if (stopping_ || link_) return;  // a link is already connecting or up
  ++connects_;
  LinkConnection::Handler& as_handler = *this;  // a private base: convert here, not in make_unique
  link_ = std::make_unique<LinkConnection>(loop_, Role::kInitiator, config_.link, security_, as_handler);
  link_->connect(config_.gateway);
}

Duration GatewayLink::reconnectDelay(uint32_t failures, Duration min, Duration max, double jitter) {
  Duration delay = min;
  for (uint32_t i = 1; i < failures && delay < max; ++i) delay *= 2;
  delay = std::min(delay, max);
  return Duration(static_cast<int64_t>(static_cast<double>(delay.count()) * std::clamp(jitter, 0.5, 1.0)));
}

void GatewayLink::scheduleReconnect() {
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  Duration delay = reconnectDelay(failures_, config_.reconnect_min, config_.reconnect_max, jitter(jitter_));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  uv_timer_start(&retry_timer_, onRetryTimer, static_cast<uint64_t>(std::max<int64_t>(ms, 1)), 0);
}

void GatewayLink::onRetryTimer(uv_timer_t* timer) { static_cast<GatewayLink*>(timer->data)->connectNow(); }

bool GatewayLink::sendRequest(const SendFrame& frame) {
  if (!isUp() || draining_) return false;
  return link_->sendRequest(frame);
}

void GatewayLink::onLinkUp(LinkConnection&) {
  failures_ = 0;
  was_up_ = true;
  draining_ = false;
  handler_.onGatewayUp(*this);
}

void GatewayLink::onLinkFrame(LinkConnection&, const Frame& frame) {
  if (std::holds_alternative<DrainFrame>(frame)) draining_ = true;
  handler_.onGatewayFrame(*this, frame);
}

void GatewayLink::onLinkRtt(LinkConnection&, uint64_t rtt_us) { handler_.onGatewayRtt(*this, rtt_us); }

void GatewayLink::onLinkClosed(LinkConnection&, std::string_view reason) {
  std::string why(reason);
  bytes_sent_before_ += link_->bytesSent();
  bytes_received_before_ += link_->bytesReceived();
  link_.reset();
  bool was_up = was_up_;
  was_up_ = false;
  draining_ = false;
  ++failures_;
  if (was_up) {
    handler_.onGatewayDown(*this, why);
  } else if (!stopping_) {
    handler_.onGatewayFailed(*this, why);
  }
  if (stopping_) {
    maybeFinishStop();
    return;
  }
  logDebug("link.reconnect_scheduled", {{"gateway", config_.gateway.toString()}, {"failures", failures_}});
  scheduleReconnect();
}

void GatewayLink::stop(std::function<void()> done) {
  stop_done_.add(std::move(done));
  if (!stopping_) {
    stopping_ = true;
    if (link_) link_->close(GoodbyeReason::kShutdown, "initiator stopping");
    closer_.close({asHandle(&retry_timer_)}, [this] {
      timer_open_ = false;
      maybeFinishStop();
    });
  }
  maybeFinishStop();
}

void GatewayLink::maybeFinishStop() {
  if (!stopping_ || link_ || timer_open_) return;
  stop_done_.runAll();
}

}  // namespace lbmail::proto
