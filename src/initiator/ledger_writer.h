// State changes to the ledger in batches: up to batch_size changes or batch_interval, whichever
// comes first, each batch's accounting lines then its ledger transaction written off the loop.
// A failed write is kept and written with the next batch, so no outcome is dropped. It opens
// and owns the campaign's ledger (the feed reads through the same connection, on the same
// queue) and its accounting file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "accounting_log.h"
#include "campaign_ledger.h"
#include "initiator_config.h"
#include "lbmail/core/background_queue.h"
#include "outcome_policy.h"
#include "pending_recipient.h"

namespace lbmail {

// The row for what was decided about p at unix time at; gateway is empty when none tried it.
StateChange stateChange(PendingRecipient&& p, const OutcomeDecision& d, const CampaignSettings& campaign,
                        std::string gateway, double at);

class LedgerWriter {
 public:
  // written runs on the loop after each batch is in the database.
  LedgerWriter(BackgroundQueue& background, const CampaignSettings& campaign, std::function<void()> written);

  // Opens the ledger and the accounting file (when there is one); false after logging why.
  // Opening is a blocking database step, made before the loop runs.
  bool open(uint64_t now_ms);
  CampaignLedger& ledger() { return *ledger_; }

  void record(StateChange&& c, uint64_t now_ms);
  void flush(uint64_t now_ms);
  // Flushes when batch_interval has passed since the last flush.
  void tick(uint64_t now_ms);

  // Outcomes not yet committed plus requests in flight are what a crash could send twice (the
  // gateways' handover at the next start takes back most of them): sending waits while the
  // database is two batches behind, which bounds that window.
  bool backlogged() const { return waiting_.size() + writing_ >= 2 * campaign_.batch_size; }
  // Nothing waiting and nothing being written.
  bool idle() const { return waiting_.empty() && writing_ == 0; }

 private:
  BackgroundQueue& background_;
  const CampaignSettings& campaign_;
  std::function<void()> written_;
  std::unique_ptr<CampaignLedger> ledger_;
  std::unique_ptr<AccountingLog> accounting_;
  uint64_t interval_ms_;
  std::vector<StateChange> waiting_;
  size_t writing_ = 0;  // changes in a database write now
  uint64_t last_flush_ms_ = 0;
};

}  // namespace lbmail
