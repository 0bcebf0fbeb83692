// The initiator mode's glue.
#include "initiator.h"

#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <string>

#include "lbmail/core/log.h"
#include "status_page.h"

namespace lbmail {
namespace {

// Null when the database can carry a campaign, else why not. Only `lbmail import` makes one:
// a mistyped campaign.database must not become a new empty file and a campaign "done" with
// total=0 and exit 0.
std::optional<std::string> databaseError(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "does not exist (lbmail import FILE.csv --db " + path + " makes it)";
  sqlite3* db = nullptr;
  // Without SQLITE_OPEN_CREATE: checking must not make the file it checks for.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string error = std::string("cannot be opened: ") + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return error;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  std::optional<std::string> error;
  if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM recipients)", -1, &st, nullptr) != SQLITE_OK) {
    error = "is not a recipient database (" + std::string(sqlite3_errmsg(db)) + "; lbmail import makes one)";
  } else if (sqlite3_step(st) != SQLITE_ROW) {
    error = "cannot be read: " + std::string(sqlite3_errmsg(db));
  } else if (sqlite3_column_int(st, 0) == 0) {
    error = "holds no recipients (lbmail import adds them)";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return error;
}

}  // namespace

Initiator::Initiator(uv_loop_t* loop, const InitiatorConfig& config, MetricsRegistry& metrics)
    : ModeService(loop, config.service, metrics),
      database_(config.campaign.database),
      campaign_(loop, config, metrics, [this] { requestStop(); }) {}

std::vector<ModeService::AdminPage> Initiator::adminPages() {
  return {{"/", "text/html; charset=utf-8", [] { return std::string(statusPageHtml()); }}};
}

int Initiator::onStart() {
  if (std::optional<std::string> error = databaseError(database_)) {
    logError("campaign.database_unusable",
             {{"key", "campaign.database"}, {"path", database_}, {"error", "the database " + *error}});
    return 1;
  }
  return campaign_.start();
}

}  // namespace lbmail
