// A minimal initiator for gateway tests and benchmarks, built on the link library: defines
// materials when the link comes up, sends its requests as credit allows, and records every
// answer. It runs on a LoopThread; the test thread waits for answers with waitForAnswers.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway_process.h"
#include "lbmail/proto/gateway_link.h"

namespace lbmail::test {

struct TestMaterial {
  uint64_t id = 0;
  std::vector<std::pair<proto::MaterialPartKind, std::string>> parts;
  std::vector<std::tuple<proto::MediaHash, proto::MediaDisposition, std::string>> media;
};

struct TestRequest {
  uint64_t id = 0;
  std::string sender;
  std::string recipient;
  uint64_t material = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  uint32_t deadline_ms = 0;
  uint64_t message_key = 0;
};

struct TestAnswer {
  bool rejected = false;
  proto::RejectReason reason = proto::RejectReason::kOther;
  proto::Outcome outcome = proto::Outcome::kFailed;
  uint16_t code = 0;
  std::string enhanced;
  std::string text;  // the reply, or the reject's text
  std::string mx_host;
  proto::Timings timings;
  bool has_tls = false;  // the RESULT carried its TLS fields
  std::string tls_version;
  bool tls_verified = false;
  uint8_t tls_policy = 0;
  bool has_shaping = false;  // the RESULT carried reply_class and site
  uint8_t reply_class = 0;
  std::string site;  // RESULT's or REJECT's
  bool has_load = false;  // the RESULT carried its load field (queue)
  uint32_t queue = 0;
};

// A SITES frame as received, with its own copies of the names.
struct TestSite {
  std::string site;
  uint32_t suspended_ms = 0;
  uint32_t rate_millis = 0;
  uint32_t queued = 0;
  uint32_t warmup_left = proto::SiteStatus::kNoWarmupCap;
};

// A FEEDBACK frame as received, with its own copies of the texts.
struct TestFeedback {
  uint64_t sequence = 0;
  proto::FeedbackKind kind = proto::FeedbackKind::kHardBounce;
  uint32_t campaign = 0;
  uint64_t recipient = 0;
  uint8_t attempt = 0;
  uint64_t at_ms = 0;
  std::string status;
  std::string source;
  std::string detail;
};

// What the test initiator does with FEEDBACK frames.
enum class FeedbackMode {
  kNone,         // does not announce kCapabilityFeedback
  kAcknowledge,  // announces it and answers each FEEDBACK with FEEDBACK_ACK
  kKeep,         // announces it and never acknowledges (the gateway must keep them)
};

// Whether the test initiator announces kCapabilityLoad (RESULT's queue, issue 22) and probes.
enum class LoadMode {
  kNone,             // does not announce it (an initiator before issue 22)
  kAnnounce,         // announces it
  kProbeWithSends,   // announces it and sends a PROBE right after its first SENDs (token: their count)
};

class TestInitiator final : public proto::GatewayLink::Handler {
 public:
  // instance: the campaign instance its HELLO names (0: none).
  // The link authenticates with the gateway's key file, for the gateway's name.
  TestInitiator(uv_loop_t* loop, const GatewayProcess& gateway, std::vector<TestMaterial> materials,
                std::vector<TestRequest> requests, uint64_t instance = 0, FeedbackMode feedback = FeedbackMode::kNone,
                LoadMode load = LoadMode::kNone);

  // On the loop thread.
  void start() { link_.start(); }
  void stop(std::function<void()> done) { link_.stop(std::move(done)); }

  // On the test thread: true once n answers in all have arrived, false after bound.
  bool waitForAnswers(size_t n, std::chrono::seconds bound);
  // On the test thread: true once the link is up (its CATALOG arrived), false after bound.
  bool waitForCatalog(std::chrono::seconds bound);
  // On the test thread, after the loop stopped or while waiting is over.
  std::map<uint64_t, std::vector<TestAnswer>> answers();
  size_t catalogSize();
  // The HANDOVER frames received, and how many answers had arrived before the first.
  std::vector<proto::HandoverFrame> handovers();
  size_t answersBeforeHandover();
  // Every SITES frame received so far, oldest first.
  std::vector<std::vector<TestSite>> sites();
  uint64_t bytesSent() const { return bytes_sent_; }
  // SENDs put on the link so far (read it after the loop has stopped).
  size_t sent() const { return next_; }
  uint64_t bytesReceived() const { return bytes_received_; }
  // On the test thread: true once n FEEDBACK frames in all have arrived, false after bound.
  bool waitForFeedback(size_t n, std::chrono::seconds bound);
  std::vector<TestFeedback> feedback();
  // The FEEDBACK_ACKs sent so far (their sequences).
  std::vector<uint64_t> acknowledged();
  // On the loop thread: a PROBE with token (false when the link is not up).
  bool probe(uint64_t token) { return link_.send(proto::ProbeFrame{token}); }
  // On the test thread: true once n PROBE_REPLYs in all have arrived, false after bound.
  bool waitForProbeReplies(size_t n, std::chrono::seconds bound);
  std::vector<proto::ProbeReplyFrame> probeReplies();
  // The capability bits of the gateway's HELLO (on the loop thread, while up).
  uint64_t gatewayCapabilities() const { return link_.peerCapabilities(); }

 private:
  void onGatewayUp(proto::GatewayLink& link) override;
  void onGatewayFrame(proto::GatewayLink& link, const proto::Frame& frame) override;
  void onGatewayDown(proto::GatewayLink& link, std::string_view reason) override;
  void pump();
  void record(uint64_t id, TestAnswer a);

  std::unique_ptr<proto::LinkSecurity> security_;  // before link_, which uses it
  proto::GatewayLink link_;
  FeedbackMode feedback_mode_;
  LoadMode load_mode_;
  bool probed_ = false;
  std::vector<TestMaterial> materials_;
  std::vector<TestRequest> requests_;
  size_t next_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, std::vector<TestAnswer>> answers_;
  size_t answer_count_ = 0;
  size_t catalog_size_ = 0;
  bool catalog_seen_ = false;
  std::vector<proto::HandoverFrame> handovers_;
  std::vector<std::vector<TestSite>> sites_;
  size_t answers_before_handover_ = 0;
  std::vector<TestFeedback> feedback_;
  std::vector<uint64_t> acknowledged_;
  std::vector<proto::ProbeReplyFrame> probe_replies_;
};

}  // namespace lbmail::test
