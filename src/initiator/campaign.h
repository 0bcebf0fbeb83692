// One campaign run: recipients stream from the database in pages, each gets its material by the
// targeting rules and its gateway by the selection policy, goes out as a SEND within that
// gateway's credit, and ends delivered, bounced or failed, or deferred for a retry on the
// schedule (through another gateway when there is one). Every RESULT feeds the delivery-time
// table. State changes reach the database in batched transactions off the loop; the accounting
// file gets a line for each. In flight on a link that dies, a request is sent elsewhere after
// the grace period.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "accounting_log.h"
#include "campaign_ledger.h"
#include "delivery_time_table.h"
#include "domain_rate_limiter.h"
#include "gateway_selector.h"
#include "initiator_config.h"
#include "lbmail/core/background_queue.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/proto/gateway_link.h"
#include "progress_reporter.h"

namespace lbmail {

class Campaign final : private proto::GatewayLink::Handler {
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

  // The request id of a recipient in this campaign: stable, so the Message-ID the gateway
  // derives from it is the same on every attempt and duplicates are recognisable.
  static uint64_t requestId(std::string_view campaign, uint64_t recipient_id);

 private:
  using Clock = std::chrono::steady_clock;

  // A recipient ready to be sent.
  struct Pending {
    uint64_t id = 0;
    std::string email;
    std::string domain;
    uint32_t domain_id = 0;
    int material = -1;  // -1: none; error says why
    std::string error;
    std::vector<std::optional<std::string>> values;  // per merge field
    uint32_t attempts = 0;                           // made before
    double first_at = 0;
    int avoid_gateway = -1;  // deferred or failed over from it: another is preferred
    uint32_t requeues = 0;   // sent back without an attempt
  };
  struct InFlight {
    Pending r;
    size_t gateway = 0;
    uint64_t sent_ms = 0;
  };
  struct GatewaySlot {
    GatewayEndpoint endpoint;
    std::unique_ptr<proto::PreSharedKey> key;
    std::unique_ptr<proto::GatewayLink> link;
    std::vector<bool> missing_media;  // per material: the gateway said its media are missing
    std::vector<uint64_t> orphans;    // request ids in flight when the link went down
    uint64_t orphans_due_ms = 0;
    uint64_t in_flight = 0;
    uint64_t sent = 0, delivered = 0, deferred = 0, bounced = 0, failed = 0;
  };

  // GatewayLink::Handler
  void onGatewayUp(proto::GatewayLink& link) override;
  void onGatewayFrame(proto::GatewayLink& link, const proto::Frame& frame) override;
  void onGatewayDown(proto::GatewayLink& link, std::string_view reason) override;

  size_t slotOf(const proto::GatewayLink& link) const;
  void sendMaterials(GatewaySlot& slot);
  Pending toPending(StoredRecipient&& s) const;
  void fetchMore();
  void claimRetries();
  void pump();
  bool dispatch(Pending& p, uint64_t now_ms);
  bool sendTo(Pending& p, size_t gateway, uint64_t now_ms);
  bool known(uint32_t domain) const;
  Pending takeWaiting(size_t gateway);
  // What a gateway has in flight to one domain, and how fast it completes them.
  struct Cell {
    uint32_t in_flight = 0;
    uint32_t parked = 0;  // waiting for this gateway's credit
    uint32_t done = 0;    // this second
    double rate = 0;      // per second, smoothed
  };
  Cell& cell(uint32_t domain, size_t gateway);
  // Requests in flight to a domain, over every gateway.
  uint64_t domainInFlight(uint32_t domain);
  void fillDestinationLoad(uint32_t domain);
  // Recipients read and not yet sent: ready, held, or waiting for a gateway's credit.
  size_t queued() const { return ready_.size() + held_.size() + waiting_count_; }
  std::optional<InFlight> takeInFlight(size_t g, uint64_t request_id);
  void onResult(size_t g, const proto::ResultFrame& r);
  void onReject(size_t g, const proto::RejectFrame& r);
  void requeue(InFlight&& f);
  // attempted: a gateway tried it (counts toward max_attempts); false when it was only sent back.
  void defer(Pending&& p, int gateway, int code, std::string enhanced, std::string reason, double ms,
             bool attempted = true);
  void finish(Pending&& p, RecipientState state, int gateway, int code, std::string enhanced, std::string reason,
              double ms);
  void record(StateChange&& c);
  void flushWrites();
  void tick();
  void expireSilent(uint64_t now_ms);
  void failOver(uint64_t now_ms);
  void maybeFinished();
  void finishStop();
  static void onTick(uv_timer_t* t);

  ProgressReporter::Snapshot snapshot() const;

  uv_loop_t* loop_;
  const InitiatorConfig& config_;
  const CampaignSettings& campaign_;
  std::function<void()> finished_;
  std::vector<GatewaySlot> slots_;
  DeliveryTimeTable table_;
  GatewaySelector selector_;
  DomainRateLimiter rates_;
  std::vector<GatewayLoad> loads_;
  std::unique_ptr<CampaignLedger> ledger_;
  std::unique_ptr<AccountingLog> accounting_;
  BackgroundQueue background_;
  ProgressReporter progress_;

  std::deque<Pending> ready_;
  std::deque<Pending> held_;                  // waiting for a domain's rate or for a gateway that can take them
  std::vector<std::deque<Pending>> waiting_;  // per gateway: chosen, waiting for its credit
  size_t waiting_count_ = 0;
  std::unordered_map<uint64_t, InFlight> in_flight_;
  std::vector<StateChange> writes_;
  size_t writing_ = 0;                 // changes in a database write now
  std::vector<uint64_t> domain_sent_;  // by domain id, for the status table
  std::vector<Cell> cells_;            // domain-major: cells_[domain * gateways + gateway]

  uint64_t last_fresh_id_ = 0;
  bool fresh_done_ = false;
  bool fetching_ = false;
  bool claiming_ = false;
  uint64_t deferred_waiting_ = 0;  // deferrals not yet claimed for their retry
  double next_due_ = 0;            // unix seconds of the earliest of them
  double due_during_claim_ = std::numeric_limits<double>::infinity();
  uint64_t last_flush_ms_ = 0;
  uint64_t last_second_ms_ = 0;

  LedgerCounts at_start_;
  uint64_t sent_ = 0, delivered_ = 0, deferrals_ = 0, bounced_ = 0, failed_ = 0, failovers_ = 0, rejects_ = 0;
  uint64_t results_in_second_ = 0;
  double rate_ = 0;  // results per second, smoothed

  uv_timer_t tick_timer_;
  bool timer_open_ = false;
  bool stopping_ = false;
  bool done_ = false;
  bool finished_called_ = false;
  uint64_t drain_deadline_ms_ = 0;
  DoneCallbacks stop_done_;
  std::function<void()> timer_closed_;

  Counter& sent_total_;
  Counter* outcome_total_[4];
  Counter& failover_total_;
  Gauge& in_flight_gauge_;
};

}  // namespace lbmail
