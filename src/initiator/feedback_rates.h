// The rates a sender watches (docs/feedback.md, "Rates"): the bounce rate and the complaint
// rate of the campaign, of each gateway and of each recipient domain, with a level (ok, warn,
// alarm) at the [feedback] thresholds. A level crossed upwards is logged once (again only after
// it fell back). Definitions:
//   sent        = delivered + bounced (messages a receiver answered for)
//   bounce rate = (bounced + hard-bounce feedback events) / sent
//   complaint rate = complaint feedback events / delivered
// The campaign's figures include its earlier runs (the ledger and feedback_events); a gateway's
// (the one that last sent the recipient) and a domain's are this run's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "initiator_feedback.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/log.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/proto/frames.h"
#include "recipient_state.h"

namespace lbmail {

enum class RateLevel { kOk, kWarn, kAlarm };
std::string_view rateLevelName(RateLevel l);

struct RateCounts {
  uint64_t delivered = 0;
  uint64_t bounced = 0;
  uint64_t hard_bounces = 0;  // feedback events
  uint64_t complaints = 0;    // feedback events
  uint64_t sent() const { return delivered + bounced; }
  double bounceRate() const;
  double complaintRate() const;
};

class FeedbackRates {
 public:
  FeedbackRates(const InitiatorFeedback& settings, std::vector<std::string> gateways, MetricsRegistry& metrics,
                Logger& log = logger());

  // The campaign's figures from its earlier runs.
  void start(const RateCounts& earlier);
  // A final outcome recorded this run, by the gateway name ("" when none tried it).
  void outcome(RecipientState s, std::string_view gateway, std::string_view domain);
  // A feedback event applied for the first time; of_campaign: it names this campaign; gateway
  // and domain: the recipient's last gateway in this campaign and its domain ("" when unknown).
  void event(proto::FeedbackKind kind, bool of_campaign, std::string_view gateway, std::string_view domain);

  RateLevel bounceLevel(const RateCounts& c) const;
  RateLevel complaintLevel(const RateCounts& c) const;
  const RateCounts& campaign() const { return campaign_scope_.counts; }
  uint64_t events(proto::FeedbackKind kind) const { return events_[static_cast<size_t>(kind) - 1]; }
  // The feedback member of /status's campaign object.
  void writeStatus(JsonWriter& w) const;

  // Domains shown in /status, the most sent first.
  static constexpr size_t kStatusDomains = 20;

 private:
  struct Scope {
    RateCounts counts;
    RateLevel bounce = RateLevel::kOk;
    RateLevel complaint = RateLevel::kOk;
    Gauge* bounce_gauge = nullptr;
    Gauge* complaint_gauge = nullptr;
  };
  Scope* gatewayScope(std::string_view name);
  // Gauges and the once-per-crossing warnings.
  void update(Scope& s, std::string_view scope, std::string_view name);
  static void writeRates(JsonWriter& w, const RateCounts& c, RateLevel bounce, RateLevel complaint);

  const InitiatorFeedback& settings_;
  Logger& log_;
  std::vector<std::string> gateway_names_;
  Scope campaign_scope_;
  std::vector<Scope> gateways_;
  std::map<std::string, RateCounts, std::less<>> domains_;
  uint64_t events_[proto::kMaxFeedbackKind] = {};
  Counter* event_total_[proto::kMaxFeedbackKind] = {};
};

}  // namespace lbmail
