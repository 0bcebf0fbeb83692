// The recipient database: SQLite in WAL mode, recipients with their attributes as a JSON
// object, and (for campaigns) the delivery state of each recipient. The schema is in docs/operations.md,
// "Recipient database", so results can be queried with the sqlite3 shell.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lbmail {

class RecipientStore {
 public:
  // Opens (creating if needed) the database and its schema.
  static Expected<std::unique_ptr<RecipientStore>, std::string> open(const std::string& path);
  ~RecipientStore();
  RecipientStore(const RecipientStore&) = delete;
  RecipientStore& operator=(const RecipientStore&) = delete;

  enum class Upsert { kInserted, kUpdated, kFailed };
  // Adds a recipient or replaces the attributes of the one with that address. Call inside a
  // batch: one transaction per batch keeps a large import fast and crash-safe.
  Upsert upsert(std::string_view email, std::string_view domain, std::string_view attributes_json);
  bool beginBatch();
  bool commitBatch();

  uint64_t recipientCount();
  const std::string& lastError() const { return error_; }
  // For the campaign's own statements on the same connection.
  sqlite3* handle() const { return db_; }

 private:
  explicit RecipientStore(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);
  bool prepare();

  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
  std::string error_;
};

}  // namespace lbmail
