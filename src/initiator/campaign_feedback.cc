// Applying FEEDBACK events and acknowledging them.
#include "campaign_feedback.h"

#include <algorithm>

#include "lbmail/core/log.h"

namespace lbmail {

CampaignFeedback::CampaignFeedback(BackgroundQueue& background, GatewayLinks& links, const InitiatorFeedback& settings,
                                   FeedbackRates& rates)
    : background_(background), links_(links), settings_(settings), rates_(rates), arrivals_(links.size()) {}

CampaignFeedback::~CampaignFeedback() = default;

void CampaignFeedback::open(sqlite3* db, uint32_t campaign_number) {
  store_ = std::make_unique<SuppressionStore>(db);
  campaign_number_ = campaign_number;
}

void CampaignFeedback::onFrame(size_t g, const proto::FeedbackFrame& f) {
  if (!store_) return;  // not started: no ack, the gateway sends it again
  // A soft bounce suppresses only past the limit, which the database counts. Another
  // campaign's number may be another database's, whose recipient ids are not ours: the write
  // tells.
  if (f.kind != proto::FeedbackKind::kSoftBounce && f.campaign == campaign_number_) suppressed_.insert(f.recipient);
  auto event = std::make_shared<const FeedbackRecord>(FeedbackRecord::of(links_.endpoint(g).name, f));
  arrivals_[g].push_back({event, links_.upCount(g), false});
  ++pending_;
  write(g, std::move(event));
}

void CampaignFeedback::write(size_t g, Event event) {
  auto result = std::make_shared<std::optional<FeedbackApplied>>();
  FeedbackRule rule{settings_.soft_bounce_limit,
                    std::chrono::duration<double>(settings_.soft_bounce_window).count()};
  background_.post([this, event, result, rule] { *result = store_->applyFeedback(*event, rule); },
                   [this, g, event, result] { applied(g, event, *result); });
}

void CampaignFeedback::tick(uint64_t now_ms) {
  now_ms_ = now_ms;
  if (retries_.empty()) return;
  if (retry_at_ms_ == 0) armRetry();  // the failure came before the first tick
  if (now_ms < retry_at_ms_) return;
  retry_at_ms_ = 0;
  for (auto& [g, event] : std::exchange(retries_, {})) write(g, std::move(event));
}

void CampaignFeedback::failed(size_t g, const Event& e) {
  logError("campaign.feedback_write_failed",
           {{"gateway", e->gateway}, {"error", store_->lastError()}, {"retry_ms", retry_ms_}});
  if (retry_at_ms_ == 0 && now_ms_ > 0) armRetry();
  retries_.emplace_back(g, e);
}

void CampaignFeedback::armRetry() {
  retry_at_ms_ = now_ms_ + retry_ms_;
  retry_ms_ = std::min(retry_ms_ * 2, kMaxRetryMs);
}

void CampaignFeedback::applied(size_t g, const Event& e, const std::optional<FeedbackApplied>& result) {
  if (!result) return failed(g, e);  // not written: not acked until it is
  retry_ms_ = kFirstRetryMs;
  --pending_;
  if (result->foreign) {
    if (foreign_logged_.insert(e->campaign_number).second) {
      logWarn("campaign.feedback_foreign", {{"gateway", e->gateway}, {"campaign_number", e->campaign_number}});
    }
  } else if (!result->duplicate) {
    rates_.event(e->kind, e->campaign_number == campaign_number_, result->gateway, result->domain);
    logInfo("campaign.feedback", {{"gateway", e->gateway},
                                  {"kind", proto::feedbackKindName(e->kind)},
                                  {"recipient", result->address},
                                  {"source", e->source},
                                  {"status", e->status},
                                  {"suppressed", result->suppressed}});
  }
  if (result->suppressed) suppressed_.insert(e->recipient_id);
  for (Arrival& a : arrivals_[g]) {
    if (a.event == e) a.written = true;
  }
  ackWritten(g);
}

void CampaignFeedback::ackWritten(size_t g) {
  std::deque<Arrival>& arrivals = arrivals_[g];
  uint64_t up = links_.upCount(g);
  std::optional<uint64_t> ack;
  // Those of a link that has closed are sent again on the next one: they hold nothing back.
  while (!arrivals.empty() && (arrivals.front().written || arrivals.front().link_up != up)) {
    if (arrivals.front().link_up == up) ack = arrivals.front().event->sequence;
    arrivals.pop_front();
  }
  if (ack) links_.ackFeedback(g, *ack);
}

}  // namespace lbmail
