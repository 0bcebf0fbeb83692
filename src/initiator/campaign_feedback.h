// FEEDBACK events from the gateways during a run (design step 5): the recipient is suppressed
// for the rest of the run at once (on the loop: a queued or deferred copy is then recorded
// suppressed instead of sent), the event and the suppression are written off the loop through
// the campaign's BackgroundQueue (after the ledger writes posted before it), and only after that
// commit the gateway gets FEEDBACK_ACK. The gateway takes ACK(x) as "x and everything sent
// before it on this link", so acks go in arrival order per gateway: an event whose write failed
// (SQLITE_BUSY while `lbmail suppress import` holds the database) is written again after a
// backoff (1 s doubling to 30 s) and holds back the acks of those after it until it commits.
// A link that closed meanwhile gets no ack: the gateway sends the event again, and applying it
// again changes nothing.
#pragma once

#include <cstdint>
#include <deque>
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
  // Writes again the events whose write failed, once their backoff is over (the campaign's tick).
  void tick(uint64_t now_ms);
  // Suppressed by an event during this run.
  bool suppressed(uint64_t recipient_id) const { return suppressed_.count(recipient_id) > 0; }
  // Events not yet written (posted, or waiting to be written again).
  uint64_t pending() const { return pending_; }

  static constexpr uint64_t kFirstRetryMs = 1000;
  static constexpr uint64_t kMaxRetryMs = 30000;

 private:
  using Event = std::shared_ptr<const FeedbackRecord>;
  // One event on a gateway's link, in arrival order, until it is acknowledged.
  struct Arrival {
    Event event;
    uint64_t link_up = 0;  // links_.upCount(g) when it came: an ack goes on that link only
    bool written = false;
  };

  void write(size_t g, Event event);
  void applied(size_t g, const Event& e, const std::optional<FeedbackApplied>& result);
  void failed(size_t g, const Event& e);
  void armRetry();
  // Acks the longest written prefix of g's arrivals.
  void ackWritten(size_t g);

  BackgroundQueue& background_;
  GatewayLinks& links_;
  const InitiatorFeedback& settings_;
  FeedbackRates& rates_;
  std::unique_ptr<SuppressionStore> store_;
  uint32_t campaign_number_ = 0;
  std::unordered_set<uint64_t> suppressed_;
  uint64_t pending_ = 0;
  std::vector<std::deque<Arrival>> arrivals_;  // per gateway
  std::vector<std::pair<size_t, Event>> retries_;
  uint64_t now_ms_ = 0;       // the last tick's
  uint64_t retry_at_ms_ = 0;  // 0: none due
  uint64_t retry_ms_ = kFirstRetryMs;
  std::unordered_set<uint32_t> foreign_logged_;  // campaign numbers of another database, logged once
};

}  // namespace lbmail
