// Answers no request in flight expected: the late RESULT of an attempt the campaign gave up on
// (no answer within result_timeout, or its link died), or one a gateway handed over from an
// earlier run of the campaign. Each is taken for what it is: a delivery marks its recipient
// delivered unless another attempt already did, and then it is a repeat (counted, with a line
// in the accounting file); it is never credited to the recipient's current attempt.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "campaign_ledger.h"
#include "initiator_config.h"
#include "lbmail/proto/frames.h"
#include "outcome_policy.h"
#include "pending_recipient.h"

namespace lbmail {

// A RESULT kept beyond its frame: its views are copied.
struct StrayResult {
  size_t gateway = 0;
  uint64_t request_id = 0;
  proto::Outcome outcome = proto::Outcome::kFailed;
  uint16_t smtp_code = 0;
  std::string enhanced_code;
  std::string reply;
  uint64_t total_us = 0;
  bool has_tls = false;
  std::string tls_version;
  bool tls_verified = false;
  bool tls_dane = false;
  uint8_t tls_policy = 0;

  static StrayResult of(size_t g, const proto::ResultFrame& r);
  // A frame that points into this.
  proto::ResultFrame frame() const;
};

// What a stray answer from an earlier run means against the ledger's row for its recipient.
struct StrayVerdict {
  enum class Kind : uint8_t { kNothing, kRecord, kRepeat };
  Kind kind = Kind::kNothing;
  PendingRecipient recipient;
  OutcomeDecision decision;
};

// Already recorded (the row names this attempt), a delivery of a recipient delivered by another
// attempt (a repeat), a delivery the row does not have yet, or the outcome of a recipient with
// no row at all; anything else (a deferral or refusal of an attempt the row has overtaken) is
// no news. delivered_this_run: a delivery of this recipient is recorded and perhaps not written.
StrayVerdict judgeStray(const StrayResult& s, std::optional<LedgerRow>&& row, bool delivered_this_run,
                        const RetryPolicy& policy, const CampaignSettings& campaign,
                        std::span<const std::string> gateway_names, double now);

class LateAnswers {
 public:
  static constexpr size_t kMaxRetired = 100000;  // the oldest are forgotten beyond this

  // f's attempt was given up on; its answer may still come.
  void retire(const InFlightRequest& f);
  // The retired attempt request_id names, forgotten here; nullopt when it is not one.
  std::optional<InFlightRequest> takeRetired(uint64_t request_id);

  // A delivery of the recipient is recorded while another of its attempts may still answer:
  // any other delivery is a repeat, and anything else about it is no news.
  bool settled(uint64_t recipient_id) const { return settled_.count(recipient_id) > 0; }
  void settle(uint64_t recipient_id) { settled_.insert(recipient_id); }
  // A current attempt delivered the recipient: settled when a retired attempt may still answer.
  void delivered(uint64_t recipient_id) {
    if (open_.count(recipient_id)) settled_.insert(recipient_id);
  }

  size_t retired() const { return retired_.size(); }

 private:
  void forget(uint64_t recipient_id);

  std::map<uint64_t, InFlightRequest> retired_;     // by request id: the attempt number is above
  std::unordered_map<uint64_t, uint32_t> open_;     // recipient id → retired attempts not answered
  std::unordered_set<uint64_t> settled_;
};

}  // namespace lbmail
