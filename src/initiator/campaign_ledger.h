// The campaign's durable state in the recipient database, read and written off the event loop
// (through a BackgroundQueue; never two calls at once). A recipient with no `deliveries` row
// for the campaign has not been sent, or was in flight when the initiator stopped: either way
// it is sent (again) on the next run. Deferred recipients wait in their row for next_at; rows
// claimed for a retry say 'sending' until their outcome is written, and a restart turns them
// back to 'deferred'. So nothing is skipped and nobody is lost across a kill -9. Each row keeps
// the request id of the attempt whose answer decided it, so an answer handed over after a crash
// is known for what it is; the campaigns table keeps each campaign's random salt.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lbmail/core/expected.h"
#include "recipient_state.h"
#include "recipient_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lbmail {

// A recipient as the database gives it to the campaign.
struct StoredRecipient {
  uint64_t id = 0;
  std::string email;
  std::string domain;
  std::string attributes;  // the JSON object
  uint32_t attempts = 0;   // made before this one
  double first_at = 0;     // unix seconds of the first attempt; 0 before it
  std::string last_gateway;
  bool suppressed = false;  // the address is on the suppression list
};

// One state change: a final outcome or a deferral.
struct StateChange {
  uint64_t recipient_id = 0;
  RecipientState state = RecipientState::kFailed;
  uint32_t attempts = 0;
  std::string material;
  std::string gateway;
  int smtp_code = 0;
  std::string enhanced_code;
  std::string reason;
  double delivery_ms = 0;
  double first_at = 0;
  double next_at = 0;  // deferred: when the retry is due
  double at = 0;       // when it happened (unix seconds)
  uint64_t request_id = 0;  // the attempt whose answer this is; 0: no answer (a timeout, unsent)
  // Another attempt's delivery of a recipient already delivered: an accounting line only
  // (outcome "repeat"), the ledger row stays as it is.
  bool repeat = false;
  // For the accounting file only.
  std::string email;
  std::string domain;
  std::string tls;  // OutcomeDecision::tls
  bool tls_verified = false;
};

// What the ledger says of one recipient, for an answer that no request in flight expected.
struct LedgerRow {
  StoredRecipient recipient;
  bool has_state = false;  // false: no row for the campaign yet
  std::string state;       // 'delivered', 'deferred', 'sending', ...
  uint64_t request_id = 0;  // the attempt whose answer decided the row; 0 when none did
};

struct LedgerCounts {
  uint64_t recipients = 0;
  uint64_t delivered = 0;
  uint64_t bounced = 0;
  uint64_t failed = 0;
  uint64_t deferred = 0;  // waiting for a retry (after a restart: including those that were being retried)
  uint64_t suppressed = 0;
  uint64_t hard_bounces = 0;  // feedback events naming the campaign
  uint64_t complaints = 0;
};

// A recipient's final outcome in a campaign, as a reader after the run sees it.
struct FinalOutcome {
  RecipientState state = RecipientState::kFailed;  // delivered, bounced, failed or suppressed
  std::string gateway;                             // the last gateway tried; empty if none
  double delivery_ms = 0;
  std::string domain;
};

class CampaignLedger {
 public:
  // Opens an existing database read-only (a campaign may still be writing it) and calls visit
  // with each final outcome of campaign. Returns how many it visited, or an error naming path.
  static Expected<uint64_t, std::string> readFinalOutcomes(const std::string& path, const std::string& campaign,
                                                           const std::function<void(const FinalOutcome&)>& visit);

  // Opens the database and turns the campaign's 'sending' rows (a run that stopped mid-retry)
  // back into due deferrals. durable: every commit reaches the disk before it returns (SQLite
  // synchronous=FULL), so a power loss never rolls back a batch already committed; otherwise
  // synchronous=NORMAL, which in WAL mode survives a crash of the process but not of the host.
  // The campaign's salt is made the first time (a random number kept in the campaigns table)
  // and read back on every later open.
  static Expected<std::unique_ptr<CampaignLedger>, std::string> open(const std::string& path, std::string campaign,
                                                                     bool durable = true);
  ~CampaignLedger();

  LedgerCounts counts();
  // Up to limit recipients after after_id that have no row for the campaign, by id.
  bool fetchFresh(uint64_t after_id, size_t limit, std::vector<StoredRecipient>& out);
  // Up to limit deferrals due at now, marked 'sending' in the same transaction.
  bool claimDue(double now, size_t limit, std::vector<StoredRecipient>& out);
  // The earliest next_at of the waiting deferrals, if any.
  std::optional<double> nextDue();
  // Every change in one transaction.
  bool write(const std::vector<StateChange>& changes);

  // The recipient and the campaign's row for it; nullopt when there is no such recipient.
  std::optional<LedgerRow> row(uint64_t recipient_id);
  // Random per campaign and database, the same across runs: the campaign instance a gateway
  // knows the initiator by, and what Message-IDs are salted with (never 0).
  uint64_t salt() const { return salt_; }
  // The campaign's row number in the campaigns table: what its feedback tokens name.
  uint32_t number() const { return number_; }

  const std::string& lastError() const { return error_; }
  // The connection, for the suppression list's statements (through the same queue).
  sqlite3* handle() const { return store_->handle(); }
  // True when commits are synced as open's durable asked (PRAGMA synchronous is FULL or more).
  bool durable();

 private:
  CampaignLedger(std::unique_ptr<RecipientStore> store, std::string campaign)
      : store_(std::move(store)), campaign_(std::move(campaign)) {}
  bool prepare();
  bool migrate();
  bool loadSalt();
  bool exec(const char* sql);
  bool fail();

  std::unique_ptr<RecipientStore> store_;
  std::string campaign_;
  sqlite3_stmt* fresh_ = nullptr;
  sqlite3_stmt* due_ = nullptr;
  sqlite3_stmt* claim_ = nullptr;
  sqlite3_stmt* next_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* row_ = nullptr;
  uint64_t salt_ = 0;
  uint32_t number_ = 0;
  std::string error_;
};

}  // namespace lbmail
