// SQLite access for recipients.
#include "recipient_store.h"

#include <sqlite3.h>

#include <chrono>

#include "lbmail/core/units.h"

namespace lbmail {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS recipients (
  id          INTEGER PRIMARY KEY,
  email       TEXT NOT NULL UNIQUE,
  domain      TEXT NOT NULL,
  attributes  TEXT NOT NULL,
  imported_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS recipients_by_domain ON recipients (domain);
CREATE TABLE IF NOT EXISTS deliveries (
  campaign      TEXT NOT NULL,
  recipient_id  INTEGER NOT NULL REFERENCES recipients (id),
  state         TEXT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  material      TEXT,
  gateway       TEXT,
  smtp_code     INTEGER,
  enhanced_code TEXT,
  reason        TEXT,
  delivery_ms   REAL,
  first_at      REAL,
  next_at       REAL,
  updated_at    REAL,
  PRIMARY KEY (campaign, recipient_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (campaign, state, next_at);
)sql";

}  // namespace

Expected<std::unique_ptr<RecipientStore>, std::string> RecipientStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string err = path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return unexpected(err);
  }
  std::unique_ptr<RecipientStore> store(new RecipientStore(db));
  sqlite3_busy_timeout(db, 5000);
  if (!store->exec(kSchema) || !store->prepare()) return unexpected(path + ": " + store->error_);
  return store;
}

RecipientStore::~RecipientStore() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(update_);
  sqlite3_close(db_);
}

bool RecipientStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
  error_ = msg ? msg : sqlite3_errmsg(db_);
  sqlite3_free(msg);
  return false;
}

bool RecipientStore::prepare() {
  const char* insert =
      "INSERT INTO recipients (email, domain, attributes, imported_at) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (email) DO NOTHING";
  const char* update = "UPDATE recipients SET attributes = ?3, imported_at = ?4 WHERE email = ?1";
  if (sqlite3_prepare_v2(db_, insert, -1, &insert_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, update, -1, &update_, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db_);
    return false;
  }
  return true;
}

RecipientStore::Upsert RecipientStore::upsert(std::string_view email, std::string_view domain,
                                              std::string_view attributes_json) {
  double now = unixNow();
  auto run = [&](sqlite3_stmt* st) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, email.data(), static_cast<int>(email.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, domain.data(), static_cast<int>(domain.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 3, attributes_json.data(), static_cast<int>(attributes_json.size()), SQLITE_STATIC);
    sqlite3_bind_double(st, 4, now);
    return sqlite3_step(st);
  };
  if (run(insert_) != SQLITE_DONE) {
    error_ = sqlite3_errmsg(db_);
    return Upsert::kFailed;
  }
  if (sqlite3_changes(db_) == 1) return Upsert::kInserted;
  if (run(update_) != SQLITE_DONE) {
    error_ = sqlite3_errmsg(db_);
    return Upsert::kFailed;
  }
  return Upsert::kUpdated;
}

bool RecipientStore::beginBatch() { return exec("BEGIN"); }
bool RecipientStore::commitBatch() { return exec("COMMIT"); }

uint64_t RecipientStore::recipientCount() {
  sqlite3_stmt* st = nullptr;
  uint64_t n = 0;
  if (sqlite3_prepare_v2(db_, "SELECT count(*) FROM recipients", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
  }
  sqlite3_finalize(st);
  return n;
}

}  // namespace lbmail
