// FEEDBACK events from the gateways during a run (design step 5): the recipient is suppressed
// for the rest of the run at once (on the loop: a queued or deferred copy is then recorded
// suppressed instead of sent), the event and the suppression are written off the loop through
// the campaign's BackgroundQueue (after the ledger writes posted before it), and only after that
// commit the gateway gets FEEDBACK_ACK. A link that closed meanwhile gets no ack: the gateway
// sends the event again, and applying it again changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "feedback_rates.h"
#include "initiator_feedback.h"
#include "gateway_links.h"
#include "lbmail/core/background_queue.h"
#include "lbmail/proto/frames.h"
#include "suppression_store.h"

struct sqlite3;

namespace lbmail {

class CampaignFeedback {
 public:
  CampaignFeedback(BackgroundQueue& background, GatewayLinks& links, const InitiatorFeedback& settings,
                 FeedbackRates& rates);
  ~CampaignFeedback();

  // On the ledger's connection (used only through the background queue); campaign_number: this
  // campaign's, for its rates.
  void open(sqlite3* db, uint32_t campaign_number);
  void onFrame(size_t g, const proto::FeedbackFrame& f);
  // Suppressed by an event during this run.
  bool suppressed(uint64_t recipient_id) const { return suppressed_.count(recipient_id) > 0; }
  // Events posted and not yet written.
  uint64_t pending() const { return pending_; }

 private:
  void applied(size_t g, const FeedbackRecord& e, const std::optional<FeedbackApplied>& result);

  BackgroundQueue& background_;
  GatewayLinks& links_;
  const InitiatorFeedback& settings_;
  FeedbackRates& rates_;
  std::unique_ptr<SuppressionStore> store_;
  uint32_t campaign_number_ = 0;
  std::unordered_set<uint64_t> suppressed_;
  uint64_t pending_ = 0;
  // Per gateway: a write failed, so nothing more is acknowledged on its link this run (an ack
  // covers every lower sequence, the failed one too); the gateway sends them all again later.
  std::vector<bool> hold_acks_;
};

}  // namespace lbmail
