// The gateway mode: takes authenticated assemble-and-mail requests from initiator links,
// assembles each message from the media cache, delivers it through the delivery engine and
// answers with its outcome and timings. Credit follows real capacity: requests in flight plus
// credit granted never exceed [gateway] capacity, so a backed-up gateway grants less. A request
// starts (MAIL FROM) only while its link is open and its deadline has not passed; the answers
// given to an initiator instance are kept (HeldAnswers) and handed over when it connects again.
#pragma once

#include <uv.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "delivery_metrics.h"
#include "gateway_config.h"
#include "gateway_feedback.h"
#include "gateway_shaping.h"
#include "held_answers.h"
#include "latency_estimate.h"
#include "message_signer.h"
#include "lbmail/core/mode_service.h"
#include "lbmail/dns/mx_resolver.h"
#include "lbmail/media/material.h"
#include "lbmail/media/media_cache.h"
#include "lbmail/media/message_assembler.h"
#include "lbmail/proto/link_acceptor.h"
#include "lbmail/proto/link_security.h"
#include "lbmail/delivery/delivery_engine.h"

namespace lbmail {

class Gateway final : public ModeService, public proto::LinkConnection::Handler {
 public:
  Gateway(uv_loop_t* loop, const GatewayConfig& config, MetricsRegistry& metrics);
  ~Gateway() override;

 protected:
  int onStart() override;
  void onStop(std::function<void()> done) override;
  void writeModeStatus(JsonWriter& w) override;

 private:
  using Clock = std::chrono::steady_clock;

  // What the gateway keeps for one authenticated link.
  struct LinkState {
    uint64_t id = 0;
    proto::LinkConnection* link = nullptr;
    // Materials by the initiator's id; a failed definition keeps its error for the SENDs
    // that name it.
    std::map<uint64_t, std::shared_ptr<const media::Material>> materials;
    std::map<uint64_t, std::pair<proto::RejectReason, std::string>> failed_materials;
    uint64_t in_flight = 0;
    uint64_t requests = 0;
  };

  // One SEND taken: whose it is, and whether its transaction has started.
  struct Request {
    uint64_t link_id = 0;
    uint64_t instance = 0;
    uint64_t request_id = 0;
    Clock::time_point received;
    std::optional<Clock::time_point> deadline;
    bool started = false;
    std::string withdrawn_why;
    std::string domain;  // the recipient's
    size_t size = 0;     // the message's octets, unsigned
  };

  void onLinkUp(proto::LinkConnection& link) override;
  void onLinkFrame(proto::LinkConnection& link, const proto::Frame& frame) override;
  void onLinkClosed(proto::LinkConnection& link, std::string_view reason) override;

  void defineMaterial(LinkState& s, const proto::MaterialFrame& frame);
  void handleSend(LinkState& s, const proto::SendFrame& send);
  // Into the delivery engine (after signing, when the message is signed).
  void deliver(const std::shared_ptr<Request>& q, smtp::OutgoingMessage&& out);
  void failSigning(Request& q, const std::string& why);
  void reject(LinkState& s, uint64_t request_id, proto::RejectReason reason, std::string_view text);
  // Just before MAIL FROM: false when the request's link has closed or its deadline passed.
  bool mayStart(Request& q);
  void finish(Request& q, delivery::DeliveryResult&& result);
  // Where q's answer goes: its own link if open, else an open link of the same instance.
  LinkState* answerLink(const Request& q);
  void handOver(LinkState& s);
  // PROBE: answered at once with what is in flight here and the latency estimate.
  void answerProbe(LinkState& s, const proto::ProbeFrame& probe);
  // Messages waiting here: in the delivery queues and for a signer thread (LOAD, RESULT).
  uint64_t queueDepth() const;
  // Grants s what its share of the free capacity allows (nothing while draining).
  void grantCredit(LinkState& s);
  void grantEveryLink();
  uint64_t freeCapacity() const;
  void startDrain();
  void maybeFinishDrain();
  void closeEverything();
  static void onDrainTimer(uv_timer_t* timer);

  const GatewayConfig& config_;
  std::unique_ptr<proto::LinkSecurity> security_;
  media::MediaCache media_;
  media::MessageAssembler assembler_;
  std::unique_ptr<dns::MxResolver> resolver_;
  std::unique_ptr<GatewayShaping> shaping_;  // before engine_, which uses it: destroyed after it
  std::unique_ptr<delivery::DeliveryEngine> engine_;
  std::unique_ptr<MessageSigner> signer_;  // null when [dkim] has no keys
  std::unique_ptr<GatewayFeedback> feedback_;  // null when [feedback] is off
  std::unique_ptr<proto::LinkAcceptor> acceptor_;
  std::unordered_map<proto::LinkConnection*, LinkState> links_;
  std::unordered_map<uint64_t, LinkState*> links_by_id_;
  std::unordered_map<uint64_t, LinkState*> links_by_instance_;  // the newest link of each
  HeldAnswers held_;
  LatencyEstimate latency_;  // of the RESULTs sent
  uint64_t next_link_id_ = 1;
  uint64_t in_flight_ = 0;
  std::vector<std::optional<std::string_view>> field_values_;  // scratch, per SEND

  bool draining_ = false;
  bool closing_ = false;
  uv_timer_t drain_timer_;
  bool timer_open_ = false;
  std::function<void()> stop_done_;

  Counter& accepted_;
  Counter& rejected_;
  Counter& results_dropped_;
  Counter& expired_;
  Counter& site_unavailable_;
  Counter& probes_;
  DeliveryMetrics delivery_metrics_;
};

}  // namespace lbmail
