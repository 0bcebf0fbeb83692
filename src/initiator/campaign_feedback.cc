// Applying FEEDBACK events and acknowledging them.
#include "campaign_feedback.h"

#include "lbmail/core/log.h"

namespace lbmail {

CampaignFeedback::CampaignFeedback(BackgroundQueue& background, GatewayLinks& links, const InitiatorFeedback& settings,
                               FeedbackRates& rates)
    : background_(background), links_(links), settings_(settings), rates_(rates), hold_acks_(links.size(), false) {}

CampaignFeedback::~CampaignFeedback() = default;

void CampaignFeedback::open(sqlite3* db, uint32_t campaign_number) {
  store_ = std::make_unique<SuppressionStore>(db);
  campaign_number_ = campaign_number;
}

void CampaignFeedback::onFrame(size_t g, const proto::FeedbackFrame& f) {
  if (!store_) return;  // not started: no ack, the gateway sends it again
  // A soft bounce suppresses only past the limit, which the database counts.
  if (f.kind != proto::FeedbackKind::kSoftBounce) suppressed_.insert(f.recipient);
  auto event = std::make_shared<FeedbackRecord>(FeedbackRecord::of(links_.endpoint(g).name, f));
  auto result = std::make_shared<std::optional<FeedbackApplied>>();
  FeedbackRule rule{settings_.soft_bounce_limit,
                    std::chrono::duration<double>(settings_.soft_bounce_window).count()};
  ++pending_;
  background_.post([this, event, result, rule] { *result = store_->applyFeedback(*event, rule); },
                   [this, g, event, result] {
                     --pending_;
                     applied(g, *event, *result);
                   });
}

void CampaignFeedback::applied(size_t g, const FeedbackRecord& e, const std::optional<FeedbackApplied>& result) {
  if (!result) {
    // Not written: no ack, so the gateway keeps it and sends it again.
    logError("campaign.feedback_write_failed", {{"gateway", e.gateway}, {"error", store_->lastError()}});
    hold_acks_[g] = true;
    return;
  }
  if (result->suppressed) suppressed_.insert(e.recipient_id);
  if (!result->duplicate) {
    rates_.event(e.kind, e.campaign_number == campaign_number_, result->gateway, result->domain);
    logInfo("campaign.feedback", {{"gateway", e.gateway},
                                  {"kind", proto::feedbackKindName(e.kind)},
                                  {"recipient", result->address},
                                  {"source", e.source},
                                  {"status", e.status},
                                  {"suppressed", result->suppressed}});
  }
  if (!hold_acks_[g]) links_.ackFeedback(g, e.sequence);
}

}  // namespace lbmail
