// One campaign run: recipients stream from the database in pages (RecipientFeed), each gets its
// material by the targeting rules and its gateway from the dispatcher (GatewayDispatcher), goes
// out as a SEND within that gateway's credit (GatewayLinks), and ends delivered, bounced or
// failed, or deferred for a retry, as the outcome policy decides. Every RESULT feeds the
// delivery-time table. State changes reach the database in batched transactions off the loop
// (LedgerWriter). In flight on a link that dies, a request is sent elsewhere after the grace
// period. At start, before reading anything, it takes the answers the gateways kept for its
// earlier run (their handover); an answer to an attempt it gave up on is taken for what it is
// (LateAnswers). This class coordinates those pieces; each has its own file.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "campaign_counts.h"
#include "campaign_ledger.h"
#include "domain_rate_limiter.h"
#include "campaign_feedback.h"
#include "feedback_rates.h"
#include "gateway_dispatcher.h"
#include "gateway_links.h"
#include "handover_wait.h"
#include "in_flight_requests.h"
#include "late_answers.h"
#include "initiator_config.h"
#include "lbmail/core/background_queue.h"
#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "ledger_writer.h"
#include "outcome_policy.h"
#include "pending_recipient.h"
#include "progress_reporter.h"
#include "recipient_feed.h"

namespace lbmail {

class Campaign final : private GatewayLinks::Listener {
 public:
  // finished runs once every recipient has its final state and it is written.
  Campaign(uv_loop_t* loop, const InitiatorConfig& config, MetricsRegistry& metrics, std::function<void()> finished);
  ~Campaign() override;
  Campaign(const Campaign&) = delete;
  Campaign& operator=(const Campaign&) = delete;

  // Opens the database and the accounting file and connects the gateways; 0 or an error (logged).
  int start();
  // Sends nothing more, waits (bounded) for answers in flight, writes what it has, closes the
  // links. Requests still unanswered are sent again on the next run.
  void stop(std::function<void()> done);
  void writeStatus(JsonWriter& w);

 private:
  // GatewayLinks::Listener
  void onLinkUp(size_t) override { pump(); }
  void onLinkFrame(size_t g, const proto::Frame& frame) override;
  void onLinkDown(size_t g, std::string_view reason) override;
  void onLinkFailed(size_t g) override;

  // At start, before anything is sent: the answers each reachable gateway kept for this
  // campaign's earlier links (a crashed run's), so that what they answered is not sent again.
  void onHandover(size_t g, const proto::HandoverFrame& h);
  void maybeEndHandover(bool timed_out);
  // Answers no request in flight expected (see LateAnswers).
  void onStrayResult(size_t g, const proto::ResultFrame& r);
  void resolveStrays(std::function<void()> then);
  void recordRepeat(PendingRecipient&& p, const OutcomeDecision& d, std::string gateway, uint64_t request_id);

  void arrived(std::vector<PendingRecipient>&& page);
  void fetchFresh();
  void claimRetries();
  void pump();
  bool dispatch(PendingRecipient& p, uint64_t now_ms);
  bool sendTo(PendingRecipient& p, size_t gateway, uint64_t now_ms);
  // Recipients read and not yet sent: ready, held, or parked for a gateway's credit.
  size_t queued() const { return ready_.size() + held_.size() + dispatcher_.parked(); }
  void onResult(size_t g, const proto::ResultFrame& r);
  void onReject(size_t g, const proto::RejectFrame& r);
  void apply(InFlightRequest&& f, const OutcomeDecision& d, uint64_t answered_by = 0);
  void reroute(InFlightRequest&& f, const OutcomeDecision& d);
  // Failed before any gateway tried it.
  void failUnsent(PendingRecipient&& p, std::string reason);
  // On the suppression list, or suppressed by feedback during the run: never sent.
  void recordSuppressed(PendingRecipient&& p);
  void record(PendingRecipient&& p, const OutcomeDecision& d, std::string gateway, uint64_t request_id = 0);
  void tick();
  void expireSilent(uint64_t now_ms);
  void failOver(uint64_t now_ms);
  void maybeFinished();
  void finishStop();
  std::string_view state() const { return done_ ? "done" : stopping_ ? "stopping" : "running"; }
  ProgressReporter::Snapshot snapshot() const;

  uv_loop_t* loop_;
  const InitiatorConfig& config_;
  const CampaignSettings& campaign_;
  std::function<void()> finished_;
  RetryPolicy policy_;
  CampaignCounts counts_;
  GatewayLinks links_;
  GatewayDispatcher dispatcher_;
  DomainRateLimiter rates_;
  BackgroundQueue background_;
  RecipientFeed feed_;
  LedgerWriter writer_;
  FeedbackRates feedback_rates_;
  CampaignFeedback feedback_;
  ProgressReporter progress_;
  LedgerCounts at_start_;

  std::deque<PendingRecipient> ready_;
  std::deque<PendingRecipient> held_;  // waiting for a domain's rate or for a gateway that can take them
  InFlightRequests in_flight_;
  LateAnswers late_;
  std::vector<StrayResult> strays_;  // waiting for their ledger rows
  bool resolving_ = false;
  HandoverWait handover_;  // at start
  Counter& repeats_;
  Counter& late_answers_;
  uint64_t last_second_ms_ = 0;

  uv_timer_t tick_timer_;
  HandleCloser closer_;
  bool timer_open_ = false;
  bool stopping_ = false;
  bool done_ = false;
  bool finished_called_ = false;
  uint64_t drain_deadline_ms_ = 0;
  DoneCallbacks stop_done_;
};

}  // namespace lbmail
