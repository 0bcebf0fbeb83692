// The gateway's feedback side ([feedback], docs/feedback.md): the spool of events, the SMTP
// listener for bounces and complaints, the one-click unsubscribe endpoint, and the relay that
// sends the events to the initiators over the links. Built by the Gateway when [feedback] has a
// key; /status gateway.feedback and the lbmail_gateway_feedback_* metrics.
#pragma once

#include <uv.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "feedback_config.h"
#include "feedback_listener.h"
#include "feedback_relay.h"
#include "feedback_spool.h"
#include "unsubscribe_endpoint.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/proto/link_connection.h"

namespace lbmail {

class GatewayFeedback {
 public:
  GatewayFeedback(uv_loop_t* loop, const FeedbackSettings& settings, MetricsRegistry& metrics);
  ~GatewayFeedback();
  GatewayFeedback(const GatewayFeedback&) = delete;
  GatewayFeedback& operator=(const GatewayFeedback&) = delete;

  // Loads the spool and starts the listeners: "" or the error.
  std::string start();
  void close(std::function<void()> done);

  void linkUp(proto::LinkConnection& link) { relay_->linkUp(link); }
  void linkFrame(proto::LinkConnection& link, const proto::Frame& frame);
  void linkClosed(proto::LinkConnection& link) { relay_->linkClosed(link); }
  void writeStatus(JsonWriter& w);

 private:
  // Spools the events (all or none), counts them and hands the new ones to the relay: each
  // one's sequence, 0 for a repeat.
  Expected<std::vector<uint64_t>, FeedbackSpool::AddError> store(std::vector<FeedbackEvent>&& events);
  // The unsubscribe endpoint's callbacks and the mailto: path share the token check.
  UnsubscribeEndpoint::Outcome recordUnsubscribe(std::string_view token, std::string_view source);
  bool validUnsubscribe(std::string_view token, feedback::TokenFields* fields) const;
  static uint64_t nowMs();

  uv_loop_t* loop_;
  const FeedbackSettings& settings_;
  MetricsRegistry& metrics_;
  std::unique_ptr<FeedbackSpool> spool_;
  std::unique_ptr<FeedbackRelay> relay_;
  std::unique_ptr<FeedbackListener> listener_;
  std::unique_ptr<UnsubscribeEndpoint> unsubscribe_;
  std::array<Counter*, proto::kMaxFeedbackKind + 1> events_{};
  Counter& repeats_;
};

}  // namespace lbmail
