// SQL for the campaign's state.
#include "campaign_ledger.h"

#include <sqlite3.h>

#include <random>

#include "suppression_store.h"

namespace lbmail {
namespace {

// Both flag a recipient whose address is on the suppression list (the last column): the
// campaign records it suppressed at once and never sends it.
constexpr const char* kFresh =
    "SELECT r.id, r.email, r.domain, r.attributes, s.address IS NOT NULL FROM recipients r LEFT JOIN suppressions s "
    "ON s.address = lower(r.email) WHERE r.id > ?2 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign = ?1 "
    "AND d.recipient_id = r.id) ORDER BY r.id LIMIT ?3";
constexpr const char* kDue =
    "SELECT r.id, r.email, r.domain, r.attributes, d.attempts, d.first_at, d.gateway, s.address IS NOT NULL FROM "
    "deliveries d JOIN recipients r ON r.id = d.recipient_id LEFT JOIN suppressions s ON s.address = lower(r.email) "
    "WHERE d.campaign = ?1 AND d.state = 'deferred' AND d.next_at <= ?2 ORDER BY d.next_at LIMIT ?3";
constexpr const char* kClaim = "UPDATE deliveries SET state = 'sending' WHERE campaign = ?1 AND recipient_id = ?2";
// Joined with recipients like kDue: a row whose recipient was deleted is never claimed, so it
// must not count as waiting either (else the campaign would wait for it for ever).
constexpr const char* kNext =
    "SELECT min(d.next_at) FROM deliveries d JOIN recipients r ON r.id = d.recipient_id WHERE d.campaign = ?1 AND "
    "d.state = 'deferred'";
constexpr const char* kUpsert =
    "INSERT INTO deliveries (campaign, recipient_id, state, attempts, material, gateway, smtp_code, enhanced_code, "
    "reason, delivery_ms, first_at, next_at, updated_at, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
    "?11, ?12, ?13, ?14) ON CONFLICT (campaign, recipient_id) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, "
    "material = excluded.material, gateway = excluded.gateway, smtp_code = excluded.smtp_code, enhanced_code = "
    "excluded.enhanced_code, reason = excluded.reason, delivery_ms = excluded.delivery_ms, first_at = "
    "excluded.first_at, next_at = excluded.next_at, updated_at = excluded.updated_at, request_id = "
    "excluded.request_id";
constexpr const char* kRow =
    "SELECT r.id, r.email, r.domain, r.attributes, d.attempts, d.first_at, d.gateway, d.state, d.request_id FROM "
    "recipients r LEFT JOIN deliveries d ON d.recipient_id = r.id AND d.campaign = ?1 WHERE r.id = ?2";
// Databases made before request ids were kept get the column; the salt has its own table.
constexpr const char* kCampaigns =
    "CREATE TABLE IF NOT EXISTS campaigns (name TEXT PRIMARY KEY, salt INTEGER NOT NULL)";
constexpr const char* kAddRequestId = "ALTER TABLE deliveries ADD COLUMN request_id INTEGER";
// Joined with recipients like counts(): a deleted recipient is no longer the campaign's.
constexpr const char* kFinals =
    "SELECT d.state, d.gateway, d.delivery_ms, r.domain FROM deliveries d JOIN recipients r ON r.id = "
    "d.recipient_id WHERE d.campaign = ?1 AND d.state IN ('delivered', 'bounced', 'failed', 'suppressed')";

void bindText(sqlite3_stmt* st, int i, std::string_view s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

std::string columnText(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(st, i)))
           : std::string();
}

}  // namespace

Expected<std::unique_ptr<CampaignLedger>, std::string> CampaignLedger::open(const std::string& path,
                                                                            std::string campaign, bool durable) {
  auto store = RecipientStore::open(path);
  if (!store) return unexpected(store.error());
  std::unique_ptr<CampaignLedger> ledger(new CampaignLedger(std::move(*store), std::move(campaign)));
  if (!ledger->exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL") || !ledger->migrate() ||
      !ledger->prepare() || !ledger->loadSalt()) {
    return unexpected(path + ": " + ledger->error_);
  }
  sqlite3_stmt* reset = nullptr;
  sqlite3* db = ledger->store_->handle();
  bool ok = sqlite3_prepare_v2(db,
                               "UPDATE deliveries SET state = 'deferred', next_at = 0 WHERE campaign = ?1 AND "
                               "state = 'sending'",
                               -1, &reset, nullptr) == SQLITE_OK;
  if (ok) {
    bindText(reset, 1, ledger->campaign_);
    ok = sqlite3_step(reset) == SQLITE_DONE;
  }
  sqlite3_finalize(reset);
  if (!ok) return unexpected(path + ": " + sqlite3_errmsg(db));
  return ledger;
}

Expected<uint64_t, std::string> CampaignLedger::readFinalOutcomes(
    const std::string& path, const std::string& campaign, const std::function<void(const FinalOutcome&)>& visit) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return unexpected(path + ": cannot open");
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, kFinals, -1, &st, nullptr) != SQLITE_OK) {
    std::string error = path + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return unexpected(error);
  }
  bindText(st, 1, campaign);
  uint64_t visited = 0;
  FinalOutcome outcome;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    outcome.state = parseRecipientState(columnText(st, 0)).value_or(RecipientState::kFailed);
    outcome.gateway = columnText(st, 1);
    outcome.delivery_ms = sqlite3_column_double(st, 2);
    outcome.domain = columnText(st, 3);
    visit(outcome);
    ++visited;
  }
  std::string error = rc == SQLITE_DONE ? "" : path + ": " + sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (!error.empty()) return unexpected(error);
  return visited;
}

bool CampaignLedger::durable() {
  sqlite3_stmt* st = nullptr;
  bool full = sqlite3_prepare_v2(store_->handle(), "PRAGMA synchronous", -1, &st, nullptr) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= 2;
  sqlite3_finalize(st);
  return full;
}

CampaignLedger::~CampaignLedger() {
  for (sqlite3_stmt* st : {fresh_, due_, claim_, next_, upsert_, row_}) sqlite3_finalize(st);
}

bool CampaignLedger::prepare() {
  sqlite3* db = store_->handle();
  for (auto [sql, st] : {std::pair{kFresh, &fresh_}, std::pair{kDue, &due_}, std::pair{kClaim, &claim_},
                         std::pair{kNext, &next_}, std::pair{kUpsert, &upsert_}, std::pair{kRow, &row_}}) {
    if (sqlite3_prepare_v2(db, sql, -1, st, nullptr) != SQLITE_OK) return fail();
  }
  return true;
}

bool CampaignLedger::migrate() {
  if (!exec(kCampaigns)) return false;
  if (auto ok = SuppressionStore::createSchema(store_->handle()); !ok) {
    error_ = ok.error();
    return false;
  }
  sqlite3_stmt* st = nullptr;
  bool has_column = false;
  if (sqlite3_prepare_v2(store_->handle(), "PRAGMA table_info(deliveries)", -1, &st, nullptr) != SQLITE_OK) {
    return fail();
  }
  while (sqlite3_step(st) == SQLITE_ROW) has_column = has_column || columnText(st, 1) == "request_id";
  sqlite3_finalize(st);
  return has_column || exec(kAddRequestId);
}

bool CampaignLedger::loadSalt() {
  sqlite3* db = store_->handle();
  std::random_device random;
  uint64_t fresh = (static_cast<uint64_t>(random()) << 32 | random()) | 1;  // odd: never 0
  sqlite3_stmt* st = nullptr;
  bool ok = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO campaigns (name, salt) VALUES (?1, ?2)", -1, &st,
                               nullptr) == SQLITE_OK;
  if (ok) {
    bindText(st, 1, campaign_);
    sqlite3_bind_int64(st, 2, static_cast<int64_t>(fresh));
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  sqlite3_finalize(st);
  st = nullptr;
  // The rowid is the campaign's number in feedback tokens: stable, since rows are never deleted.
  ok = ok &&
       sqlite3_prepare_v2(db, "SELECT salt, rowid FROM campaigns WHERE name = ?1", -1, &st, nullptr) == SQLITE_OK;
  if (ok) {
    bindText(st, 1, campaign_);
    ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) salt_ = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
    if (ok) number_ = static_cast<uint32_t>(sqlite3_column_int64(st, 1));
  }
  sqlite3_finalize(st);
  return ok || fail();
}

std::optional<LedgerRow> CampaignLedger::row(uint64_t recipient_id) {
  sqlite3_reset(row_);
  bindText(row_, 1, campaign_);
  sqlite3_bind_int64(row_, 2, static_cast<int64_t>(recipient_id));
  std::optional<LedgerRow> out;
  if (sqlite3_step(row_) == SQLITE_ROW) {
    LedgerRow& r = out.emplace();
    r.recipient.id = static_cast<uint64_t>(sqlite3_column_int64(row_, 0));
    r.recipient.email = columnText(row_, 1);
    r.recipient.domain = columnText(row_, 2);
    r.recipient.attributes = columnText(row_, 3);
    r.recipient.attempts = static_cast<uint32_t>(sqlite3_column_int64(row_, 4));
    r.recipient.first_at = sqlite3_column_double(row_, 5);
    r.recipient.last_gateway = columnText(row_, 6);
    r.has_state = sqlite3_column_type(row_, 7) != SQLITE_NULL;
    r.state = columnText(row_, 7);
    r.request_id = static_cast<uint64_t>(sqlite3_column_int64(row_, 8));
  }
  sqlite3_reset(row_);
  return out;
}

bool CampaignLedger::fail() {
  error_ = sqlite3_errmsg(store_->handle());
  return false;
}

bool CampaignLedger::exec(const char* sql) {
  if (sqlite3_exec(store_->handle(), sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  return fail();
}

LedgerCounts CampaignLedger::counts() {
  LedgerCounts c;
  c.recipients = store_->recipientCount();
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(store_->handle(),
                         "SELECT d.state, count(*) FROM deliveries d JOIN recipients r ON r.id = d.recipient_id "
                         "WHERE d.campaign = ?1 GROUP BY d.state",
                         -1, &st, nullptr) != SQLITE_OK) {
    return c;
  }
  bindText(st, 1, campaign_);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string state = columnText(st, 0);
    auto n = static_cast<uint64_t>(sqlite3_column_int64(st, 1));
    if (state == "delivered")
      c.delivered = n;
    else if (state == "bounced")
      c.bounced = n;
    else if (state == "failed")
      c.failed = n;
    else if (state == "suppressed")
      c.suppressed = n;
    else if (state == "deferred" || state == "sending")
      c.deferred += n;
  }
  sqlite3_finalize(st);
  st = nullptr;
  if (sqlite3_prepare_v2(store_->handle(),
                         "SELECT kind, count(*) FROM feedback_events WHERE campaign_number = ?1 GROUP BY kind", -1, &st,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_int64(st, 1, number_);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string kind = columnText(st, 0);
      auto n = static_cast<uint64_t>(sqlite3_column_int64(st, 1));
      if (kind == "hard_bounce") c.hard_bounces = n;
      if (kind == "complaint") c.complaints = n;
    }
  }
  sqlite3_finalize(st);
  return c;
}

bool CampaignLedger::fetchFresh(uint64_t after_id, size_t limit, std::vector<StoredRecipient>& out) {
  sqlite3_reset(fresh_);
  bindText(fresh_, 1, campaign_);
  sqlite3_bind_int64(fresh_, 2, static_cast<int64_t>(after_id));
  sqlite3_bind_int64(fresh_, 3, static_cast<int64_t>(limit));
  int rc;
  while ((rc = sqlite3_step(fresh_)) == SQLITE_ROW) {
    StoredRecipient& r = out.emplace_back();
    r.id = static_cast<uint64_t>(sqlite3_column_int64(fresh_, 0));
    r.email = columnText(fresh_, 1);
    r.domain = columnText(fresh_, 2);
    r.attributes = columnText(fresh_, 3);
    r.suppressed = sqlite3_column_int(fresh_, 4) != 0;
  }
  sqlite3_reset(fresh_);
  return rc == SQLITE_DONE || fail();
}

bool CampaignLedger::claimDue(double now, size_t limit, std::vector<StoredRecipient>& out) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  size_t first = out.size();
  sqlite3_reset(due_);
  bindText(due_, 1, campaign_);
  sqlite3_bind_double(due_, 2, now);
  sqlite3_bind_int64(due_, 3, static_cast<int64_t>(limit));
  int rc;
  while ((rc = sqlite3_step(due_)) == SQLITE_ROW) {
    StoredRecipient& r = out.emplace_back();
    r.id = static_cast<uint64_t>(sqlite3_column_int64(due_, 0));
    r.email = columnText(due_, 1);
    r.domain = columnText(due_, 2);
    r.attributes = columnText(due_, 3);
    r.attempts = static_cast<uint32_t>(sqlite3_column_int64(due_, 4));
    r.first_at = sqlite3_column_double(due_, 5);
    r.last_gateway = columnText(due_, 6);
    r.suppressed = sqlite3_column_int(due_, 7) != 0;
  }
  sqlite3_reset(due_);
  bool ok = rc == SQLITE_DONE || fail();
  for (size_t i = first; ok && i < out.size(); ++i) {
    sqlite3_reset(claim_);
    bindText(claim_, 1, campaign_);
    sqlite3_bind_int64(claim_, 2, static_cast<int64_t>(out[i].id));
    ok = sqlite3_step(claim_) == SQLITE_DONE || fail();
  }
  if (ok && exec("COMMIT")) return true;
  std::string error = error_;
  exec("ROLLBACK");
  error_ = error;
  out.resize(first);
  return false;
}

std::optional<double> CampaignLedger::nextDue() {
  sqlite3_reset(next_);
  bindText(next_, 1, campaign_);
  std::optional<double> due;
  if (sqlite3_step(next_) == SQLITE_ROW && sqlite3_column_type(next_, 0) != SQLITE_NULL) {
    due = sqlite3_column_double(next_, 0);
  }
  sqlite3_reset(next_);
  return due;
}

bool CampaignLedger::write(const std::vector<StateChange>& changes) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  bool ok = true;
  for (const StateChange& c : changes) {
    if (c.repeat) continue;  // the accounting file's alone
    sqlite3_reset(upsert_);
    bindText(upsert_, 1, campaign_);
    sqlite3_bind_int64(upsert_, 2, static_cast<int64_t>(c.recipient_id));
    bindText(upsert_, 3, recipientStateName(c.state));
    sqlite3_bind_int64(upsert_, 4, c.attempts);
    bindText(upsert_, 5, c.material);
    bindText(upsert_, 6, c.gateway);
    if (c.smtp_code)
      sqlite3_bind_int(upsert_, 7, c.smtp_code);
    else
      sqlite3_bind_null(upsert_, 7);
    bindText(upsert_, 8, c.enhanced_code);
    bindText(upsert_, 9, c.reason);
    sqlite3_bind_double(upsert_, 10, c.delivery_ms);
    sqlite3_bind_double(upsert_, 11, c.first_at);
    if (c.state == RecipientState::kDeferred)
      sqlite3_bind_double(upsert_, 12, c.next_at);
    else
      sqlite3_bind_null(upsert_, 12);
    sqlite3_bind_double(upsert_, 13, c.at);
    if (c.request_id)
      sqlite3_bind_int64(upsert_, 14, static_cast<int64_t>(c.request_id));
    else
      sqlite3_bind_null(upsert_, 14);
    if (sqlite3_step(upsert_) != SQLITE_DONE) {
      ok = fail();
      break;
    }
  }
  sqlite3_reset(upsert_);
  if (ok && exec("COMMIT")) return true;
  std::string error = error_;
  exec("ROLLBACK");
  error_ = error;
  return false;
}

}  // namespace lbmail
