// Recipients into the campaign: pages of fresh recipients (no state for the campaign yet) and
// of due retries, read from the ledger off the loop through the BackgroundQueue and converted
// there into pending recipients (material chosen, merge values looked up) by a pure function.
// It also keeps what the database holds for later: the deferrals waiting for their retry and
// the earliest time one is due.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "campaign_ledger.h"
#include "initiator_config.h"
#include "lbmail/core/background_queue.h"
#include "pending_recipient.h"

namespace lbmail {

// A stored recipient made ready to send: its material by the targeting rules (or the error
// why none), its merge values, and the gateway it was last tried on to avoid (by name).
PendingRecipient pendingFromStored(StoredRecipient&& s, std::span<const std::string> gateway_names,
                                   const CampaignSettings& campaign);

class RecipientFeed {
 public:
  static constexpr size_t kPage = 1024;           // recipients per database read
  static constexpr size_t kLowWater = 2 * kPage;  // read more when fewer than this wait to be sent

  using Arrived = std::function<void(std::vector<PendingRecipient>&&)>;

  // arrived runs on the loop with each page read.
  RecipientFeed(BackgroundQueue& background, const CampaignSettings& campaign, std::vector<std::string> gateway_names,
                Arrived arrived);

  // The ledger is open: deferred recipients wait in it, the first due at next_due.
  void start(CampaignLedger& ledger, uint64_t deferred, double next_due);

  // Reads the next page of fresh recipients unless queued are enough or one is being read.
  void fetchFresh(size_t queued);
  // Whether due retries should be claimed now (then the caller writes its deferrals first).
  bool retriesDue(size_t queued, double now) const;
  void claimDue(double now);
  // A deferral recorded this run, due at next_at.
  void deferred(double next_at);

  uint64_t waitingRetries() const { return deferred_waiting_; }
  // Every fresh recipient read, no read running, no retry waiting.
  bool exhausted() const { return fresh_done_ && !fetching_ && !claiming_ && deferred_waiting_ == 0; }

 private:
  BackgroundQueue& background_;
  const CampaignSettings& campaign_;
  std::vector<std::string> gateway_names_;
  Arrived arrived_;
  CampaignLedger* ledger_ = nullptr;

  uint64_t last_fresh_id_ = 0;
  bool fresh_done_ = false;
  bool fetching_ = false;
  bool claiming_ = false;
  uint64_t deferred_waiting_ = 0;  // deferrals not yet claimed for their retry
  double next_due_ = 0;            // unix seconds of the earliest of them
  double due_during_claim_ = std::numeric_limits<double>::infinity();
};

}  // namespace lbmail
