// Batched ledger and accounting writes.
#include "ledger_writer.h"

#include <chrono>
#include <iterator>
#include <memory>

#include "lbmail/core/log.h"

namespace lbmail {

StateChange stateChange(PendingRecipient&& p, const OutcomeDecision& d, const CampaignSettings& campaign,
                        std::string gateway, double at) {
  StateChange c;
  c.recipient_id = p.id;
  c.state = d.state;
  c.attempts = d.attempts;
  c.material = p.material >= 0 ? campaign.materials[static_cast<size_t>(p.material)].name : "";
  c.gateway = std::move(gateway);
  c.smtp_code = d.smtp_code;
  c.enhanced_code = d.enhanced_code;
  c.reason = d.reason;
  c.delivery_ms = d.delivery_ms;
  c.first_at = p.first_at;
  c.next_at = d.next_at;
  c.at = at;
  c.email = std::move(p.email);
  c.domain = std::move(p.domain);
  c.tls = d.tls;
  c.tls_verified = d.tls_verified;
  return c;
}

LedgerWriter::LedgerWriter(BackgroundQueue& background, const CampaignSettings& campaign, std::function<void()> written)
    : background_(background),
      campaign_(campaign),
      written_(std::move(written)),
      interval_ms_(toMillis(campaign.batch_interval)) {}

bool LedgerWriter::open(uint64_t now_ms) {
  auto ledger = CampaignLedger::open(campaign_.database, campaign_.name, campaign_.durable_commits);
  if (!ledger) {
    logError("campaign.database_failed", {{"error", ledger.error()}});
    return false;
  }
  ledger_ = std::move(*ledger);
  if (!campaign_.accounting_file.empty()) {
    auto log = AccountingLog::open(campaign_.accounting_file);
    if (!log) {
      logError("campaign.accounting_failed", {{"error", log.error()}});
      return false;
    }
    accounting_ = std::move(*log);
  }
  last_flush_ms_ = now_ms;
  return true;
}

void LedgerWriter::record(StateChange&& c, uint64_t now_ms) {
  waiting_.push_back(std::move(c));
  if (waiting_.size() >= campaign_.batch_size) flush(now_ms);
}

void LedgerWriter::tick(uint64_t now_ms) {
  if (now_ms - last_flush_ms_ >= interval_ms_) flush(now_ms);
}

void LedgerWriter::flush(uint64_t now_ms) {
  if (waiting_.empty() || !ledger_) return;
  auto batch = std::make_shared<std::vector<StateChange>>(std::move(waiting_));
  waiting_.clear();
  auto ok = std::make_shared<bool>(false);
  last_flush_ms_ = now_ms;
  writing_ += batch->size();
  background_.post(
      [this, batch, ok] {
        // The accounting lines first: after a crash between the two, a line is repeated when
        // the outcome comes again, never missing.
        if (accounting_ && !accounting_->append(*batch)) {
          logError("campaign.accounting_write_failed", {{"file", campaign_.accounting_file}});
        }
        *ok = ledger_->write(*batch);
      },
      [this, batch, ok] {
        writing_ -= batch->size();
        if (*ok) return written_();
        // Kept and written with the next batch: an outcome is never dropped.
        logError("campaign.write_failed", {{"error", ledger_->lastError()}, {"changes", batch->size()}});
        waiting_.insert(waiting_.begin(), std::make_move_iterator(batch->begin()),
                        std::make_move_iterator(batch->end()));
      });
}

}  // namespace lbmail
