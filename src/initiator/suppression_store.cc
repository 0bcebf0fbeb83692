// SQL for the suppression list and the feedback events.
#include "suppression_store.h"

#include <sqlite3.h>

#include <algorithm>

#include "lbmail/core/ascii_case.h"
#include "recipient_store.h"

namespace lbmail {
namespace {

// The events are unique per gateway spool entry; kind and recipient are in the key too, so a
// gateway whose spool was recreated (sequences again from 1) is not taken for a repeat.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS campaigns (name TEXT PRIMARY KEY, salt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS suppressions (
  address  TEXT PRIMARY KEY,
  reason   TEXT NOT NULL,
  source   TEXT NOT NULL DEFAULT '',
  campaign TEXT NOT NULL DEFAULT '',
  detail   TEXT NOT NULL DEFAULT '',
  created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback_events (
  gateway         TEXT NOT NULL,
  sequence        INTEGER NOT NULL,
  kind            TEXT NOT NULL,
  campaign_number INTEGER NOT NULL,
  recipient_id    INTEGER NOT NULL,
  attempt         INTEGER NOT NULL DEFAULT 0,
  status          TEXT NOT NULL DEFAULT '',
  source          TEXT NOT NULL DEFAULT '',
  detail          TEXT NOT NULL DEFAULT '',
  at              REAL NOT NULL,
  UNIQUE (gateway, sequence, kind, campaign_number, recipient_id)
);
CREATE INDEX IF NOT EXISTS feedback_events_by_recipient ON feedback_events (recipient_id, kind, at);
)sql";

// A prepared statement finalized on every path.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) == SQLITE_OK; }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return ok_; }
  Statement& text(int i, std::string_view s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& integer(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Statement& real(int i, double v) {
    sqlite3_bind_double(st_, i, v);
    return *this;
  }
  int step() { return ok_ ? sqlite3_step(st_) : SQLITE_ERROR; }
  std::string column(int i) const {
    const unsigned char* t = sqlite3_column_text(st_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(st_, i))) : "";
  }
  int64_t columnInt(int i) const { return sqlite3_column_int64(st_, i); }
  double columnReal(int i) const { return sqlite3_column_double(st_, i); }

 private:
  sqlite3_stmt* st_ = nullptr;
  bool ok_ = false;
};

const char* reasonOf(proto::FeedbackKind k) {
  switch (k) {
    case proto::FeedbackKind::kHardBounce: return "hard_bounce";
    case proto::FeedbackKind::kSoftBounce: return "soft_bounce";
    case proto::FeedbackKind::kComplaint: return "complaint";
    case proto::FeedbackKind::kUnsubscribe: return "unsubscribe";
  }
  return "manual";
}

}  // namespace

bool validSuppressionReason(std::string_view reason) {
  return std::find(std::begin(kSuppressionReasons), std::end(kSuppressionReasons), reason) !=
         std::end(kSuppressionReasons);
}

FeedbackRecord FeedbackRecord::of(std::string gateway, const proto::FeedbackFrame& f) {
  return FeedbackRecord{std::move(gateway),   f.sequence,           f.kind,
                        f.campaign,           f.recipient,          f.attempt,
                        std::string(f.status), std::string(f.source), std::string(f.detail),
                        static_cast<double>(f.at_ms) / 1000.0};
}

namespace {

// feedback_events as first made (before its attempt column) gets the column: soft bounces are
// counted once per attempt (softBounceLimitReached).
bool hasAttemptColumn(sqlite3* db) {
  Statement st(db, "SELECT 1 FROM pragma_table_info('feedback_events') WHERE name = 'attempt'");
  return st.step() == SQLITE_ROW;
}

}  // namespace

Expected<bool, std::string> SuppressionStore::createSchema(sqlite3* db) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db, kSchema, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK && !hasAttemptColumn(db)) {
    rc = sqlite3_exec(db, "ALTER TABLE feedback_events ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0", nullptr,
                      nullptr, &msg);
  }
  if (rc == SQLITE_OK) return true;
  std::string error = msg ? msg : sqlite3_errmsg(db);
  sqlite3_free(msg);
  return unexpected(error);
}

Expected<std::unique_ptr<SuppressionStore>, std::string> SuppressionStore::open(const std::string& path) {
  auto store = RecipientStore::open(path);
  if (!store) return unexpected(store.error());
  sqlite3* db = (*store)->handle();
  if (auto ok = createSchema(db); !ok) return unexpected(path + ": " + ok.error());
  return std::unique_ptr<SuppressionStore>(new SuppressionStore(std::move(*store), db));
}

SuppressionStore::SuppressionStore(std::unique_ptr<RecipientStore> owned, sqlite3* db)
    : owned_(std::move(owned)), db_(db) {}

SuppressionStore::SuppressionStore(sqlite3* db) : db_(db) {}

SuppressionStore::~SuppressionStore() = default;

bool SuppressionStore::fail() {
  error_ = sqlite3_errmsg(db_);
  return false;
}

bool SuppressionStore::begin() {
  return sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK || fail();
}

bool SuppressionStore::commit() {
  return sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK || fail();
}
void SuppressionStore::rollback() { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

bool SuppressionStore::add(const Suppression& s) {
  Statement st(db_,
               "INSERT INTO suppressions (address, reason, source, campaign, detail, created) VALUES (?1, ?2, ?3, ?4, "
               "?5, ?6) ON CONFLICT (address) DO NOTHING");
  st.text(1, asciiLowercase(s.address)).text(2, s.reason).text(3, s.source).text(4, s.campaign).text(5, s.detail);
  st.real(6, s.created);
  if (st.step() != SQLITE_DONE) return fail();
  error_.clear();
  return sqlite3_changes(db_) > 0;
}

bool SuppressionStore::remove(std::string_view address) {
  Statement st(db_, "DELETE FROM suppressions WHERE address = ?1");
  st.text(1, asciiLowercase(address));
  if (st.step() != SQLITE_DONE) return fail();
  error_.clear();
  return sqlite3_changes(db_) > 0;
}

bool SuppressionStore::isSuppressed(std::string_view address) {
  Statement st(db_, "SELECT 1 FROM suppressions WHERE address = ?1");
  st.text(1, asciiLowercase(address));
  return st.step() == SQLITE_ROW;
}

bool SuppressionStore::list(std::optional<std::string_view> reason,
                            const std::function<void(const Suppression&)>& visit) {
  Statement st(db_,
               "SELECT address, reason, source, campaign, detail, created FROM suppressions WHERE ?1 IS NULL OR "
               "reason = ?1 ORDER BY address");
  if (reason) st.text(1, *reason);
  int rc;
  Suppression s;
  while ((rc = st.step()) == SQLITE_ROW) {
    s = {st.column(0), st.column(1), st.column(2), st.column(3), st.column(4), st.columnReal(5)};
    visit(s);
  }
  return rc == SQLITE_DONE || fail();
}

bool SuppressionStore::recordEvent(const FeedbackRecord& e, bool& inserted) {
  Statement st(db_,
               "INSERT INTO feedback_events (gateway, sequence, kind, campaign_number, recipient_id, status, source, "
               "detail, at, attempt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING");
  st.text(1, e.gateway).integer(2, static_cast<int64_t>(e.sequence)).text(3, reasonOf(e.kind));
  st.integer(4, e.campaign_number).integer(5, static_cast<int64_t>(e.recipient_id));
  st.text(6, e.status).text(7, e.source).text(8, e.detail).real(9, e.at).integer(10, e.attempt);
  if (st.step() != SQLITE_DONE) return fail();
  inserted = sqlite3_changes(db_) > 0;
  return true;
}

bool SuppressionStore::campaignName(uint32_t number, std::string& name, bool& missing) {
  Statement st(db_, "SELECT name FROM campaigns WHERE rowid = ?1");
  st.integer(1, number);
  int rc = st.step();
  missing = rc == SQLITE_DONE;
  if (rc == SQLITE_ROW) name = st.column(0);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || fail();
}

bool SuppressionStore::findRecipient(const FeedbackRecord& e, FeedbackApplied& out, bool& ok) {
  Statement st(db_,
               "SELECT lower(r.email), r.domain, d.gateway FROM recipients r LEFT JOIN deliveries d ON "
               "d.recipient_id = r.id AND d.campaign = (SELECT name FROM campaigns WHERE rowid = ?2) WHERE r.id = ?1");
  st.integer(1, static_cast<int64_t>(e.recipient_id)).integer(2, e.campaign_number);
  int rc = st.step();
  ok = rc == SQLITE_ROW || rc == SQLITE_DONE || fail();
  if (rc != SQLITE_ROW) return false;
  out.address = st.column(0);
  out.domain = st.column(1);
  out.gateway = st.column(2);
  return true;
}

// This event is recorded already, so it counts itself. One message (a campaign's attempt, which
// its VERP token names) counts once however many reports it drew: it is one failure, not several.
bool SuppressionStore::softBounceLimitReached(const FeedbackRecord& e, const FeedbackRule& rule, bool& ok) {
  Statement st(db_,
               "SELECT count(*) FROM (SELECT DISTINCT campaign_number, attempt FROM feedback_events WHERE "
               "recipient_id = ?1 AND kind = 'soft_bounce' AND at > ?2)");
  st.integer(1, static_cast<int64_t>(e.recipient_id)).real(2, e.at - rule.soft_bounce_window_s);
  ok = st.step() == SQLITE_ROW || fail();
  return ok && static_cast<uint64_t>(st.columnInt(0)) >= rule.soft_bounce_limit;
}

std::optional<FeedbackApplied> SuppressionStore::applyFeedback(const FeedbackRecord& e,
                                                               const FeedbackRule& rule) {
  if (!begin()) return std::nullopt;
  FeedbackApplied applied;
  bool inserted = false;
  std::string name;
  bool ok = campaignName(e.campaign_number, name, applied.foreign);
  if (ok && !applied.foreign) ok = recordEvent(e, inserted);
  if (ok && !applied.foreign && findRecipient(e, applied, ok)) {
    const std::string& address = applied.address;
    bool suppress = e.kind != proto::FeedbackKind::kSoftBounce || softBounceLimitReached(e, rule, ok);
    if (ok && inserted && suppress) {
      add({address, reasonOf(e.kind), e.source, name, e.detail, e.at});
      ok = error_.empty();
    }
    if (ok) applied.suppressed = isSuppressed(address);
  }
  applied.duplicate = !inserted;
  if (ok && commit()) return applied;
  std::string error = error_;
  rollback();
  error_ = error;
  return std::nullopt;
}

}  // namespace lbmail
