// Pages of recipients from the ledger.
#include "recipient_feed.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <memory>

#include "lbmail/core/log.h"
#include "recipient_attributes.h"

namespace lbmail {

PendingRecipient pendingFromStored(StoredRecipient&& s, std::span<const std::string> gateway_names,
                                   const CampaignSettings& campaign) {
  PendingRecipient p;
  p.id = s.id;
  p.email = std::move(s.email);
  p.domain = std::move(s.domain);
  p.attempts = s.attempts;
  p.first_at = s.first_at;
  p.suppressed = s.suppressed;
  for (size_t g = 0; g < gateway_names.size(); ++g) {
    if (!s.last_gateway.empty() && gateway_names[g] == s.last_gateway) p.avoid_gateway = static_cast<int>(g);
  }
  auto attributes = RecipientAttributes::parse(s.attributes);
  if (!attributes) {
    p.error = attributes.error();
    return p;
  }
  p.material = campaign.targeting.materialFor({p.email, p.domain, *attributes});
  if (p.material < 0) {
    p.error = "no targeting rule matched and the campaign has no default_material";
    return p;
  }
  p.values.reserve(campaign.merge_fields.size());
  for (const auto& [field, attribute] : campaign.merge_fields) {
    const std::string* v = attributes->find(attribute);
    p.values.push_back(v ? std::optional<std::string>(*v) : std::nullopt);
  }
  return p;
}

RecipientFeed::RecipientFeed(BackgroundQueue& background, const CampaignSettings& campaign,
                             std::vector<std::string> gateway_names, Arrived arrived)
    : background_(background),
      campaign_(campaign),
      gateway_names_(std::move(gateway_names)),
      arrived_(std::move(arrived)) {}

void RecipientFeed::start(CampaignLedger& ledger, uint64_t deferred, double next_due) {
  ledger_ = &ledger;
  deferred_waiting_ = deferred;
  next_due_ = next_due;
}

// The page is read and converted on the worker thread; what the worker reads (the ledger, the
// gateway names, the settings) the loop does not change meanwhile.
void RecipientFeed::fetchFresh(size_t queued) {
  if (!ledger_ || fetching_ || fresh_done_ || queued >= kLowWater) return;
  fetching_ = true;
  struct Page {
    std::vector<StoredRecipient> rows;
    std::vector<PendingRecipient> pending;
    bool ok = false;
  };
  auto page = std::make_shared<Page>();
  background_.post(
      [this, page, after = last_fresh_id_] {
        page->ok = ledger_->fetchFresh(after, kPage, page->rows);
        page->pending.reserve(page->rows.size());
        for (StoredRecipient& r : page->rows) {
          page->pending.push_back(pendingFromStored(std::move(r), gateway_names_, campaign_));
        }
      },
      [this, page] {
        fetching_ = false;
        if (!page->ok) {
          // Tried again on the next tick; the error is the database's (locked, I/O).
          logWarn("campaign.read_failed", {{"error", ledger_->lastError()}});
          return;
        }
        if (page->rows.size() < kPage) fresh_done_ = true;
        if (!page->rows.empty()) last_fresh_id_ = page->rows.back().id;
        arrived_(std::move(page->pending));
      });
}

bool RecipientFeed::retriesDue(size_t queued, double now) const {
  return ledger_ && !claiming_ && deferred_waiting_ > 0 && now >= next_due_ && queued < kLowWater;
}

void RecipientFeed::claimDue(double now) {
  claiming_ = true;
  struct Claim {
    std::vector<StoredRecipient> rows;
    std::vector<PendingRecipient> pending;
    std::optional<double> next;
    bool ok = false;
  };
  auto claim = std::make_shared<Claim>();
  background_.post(
      [this, claim, now] {
        claim->ok = ledger_->claimDue(now, kPage, claim->rows);
        claim->next = ledger_->nextDue();
        for (StoredRecipient& r : claim->rows) {
          claim->pending.push_back(pendingFromStored(std::move(r), gateway_names_, campaign_));
        }
      },
      [this, claim] {
        claiming_ = false;
        if (!claim->ok) {
          logWarn("campaign.read_failed", {{"error", ledger_->lastError()}});
          return;
        }
        deferred_waiting_ -= std::min<uint64_t>(deferred_waiting_, claim->pending.size());
        // None left in the database and none recorded meanwhile: a deferral counted here was
        // overtaken by a late delivery of the same recipient.
        if (!claim->next && std::isinf(due_during_claim_)) deferred_waiting_ = 0;
        // Deferrals recorded while the claim ran are not in next: the earlier of both.
        // With none left due, look again a second from now (the claim may have taken a while).
        next_due_ = std::min(claim->next ? *claim->next : unixNow() + 1, due_during_claim_);
        due_during_claim_ = std::numeric_limits<double>::infinity();
        arrived_(std::move(claim->pending));
      });
}

void RecipientFeed::deferred(double next_at) {
  next_due_ = deferred_waiting_ == 0 ? next_at : std::min(next_due_, next_at);
  if (claiming_) due_during_claim_ = std::min(due_during_claim_, next_at);
  ++deferred_waiting_;
}

}  // namespace lbmail
