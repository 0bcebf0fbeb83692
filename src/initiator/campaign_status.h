// What a running campaign shows: the /status JSON (the campaign's figures, each gateway's link
// and counts, and the delivery-time table for the busiest domains) and the progress snapshot,
// both read from the one place each figure is kept.
#pragma once

#include <string_view>

#include "campaign_counts.h"
#include "feedback_rates.h"
#include "campaign_ledger.h"
#include "gateway_dispatcher.h"
#include "gateway_links.h"
#include "lbmail/core/json_writer.h"
#include "progress_reporter.h"

namespace lbmail {

// Where the figures live.
struct CampaignStatusSources {
  std::string_view name;
  std::string_view state;  // running, stopping or done
  const LedgerCounts& at_start;
  const CampaignCounts& counts;
  uint64_t waiting_retries = 0;
  uint64_t in_flight = 0;
  SelectionPolicy policy = SelectionPolicy::kEwma;
  const GatewayLinks& links;
  const GatewayDispatcher& dispatcher;
  uint64_t now_ms = 0;  // the loop's clock: what is left of a reported suspension
  const FeedbackRates* feedback = nullptr;  // campaign.feedback
};

ProgressReporter::Snapshot progressSnapshot(const LedgerCounts& at_start, const CampaignCounts& counts,
                                            uint64_t waiting_retries, uint64_t in_flight);

// The "campaign", "gateways" and "table" members of /status.
void writeCampaignStatus(JsonWriter& w, const CampaignStatusSources& s);

}  // namespace lbmail
