// What the ledger tests share: a fresh campaign database in the test's scratch folder, and a
// look at one of its values through SQLite itself.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <string>

#include "recipient_store.h"
#include "temp_path.h"

namespace lbmail::test {

// A new database named after the test with recipients user1..userN@dK.test (ids 1..N).
inline std::string makeDatabase(int recipients) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = tempPath(std::string("ledger-") + info->test_suite_name() + "-" + info->name() + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  auto store = RecipientStore::open(path);
  EXPECT_TRUE(store) << store.error();
  if (!store) return path;
  EXPECT_TRUE((*store)->beginBatch());
  for (int i = 1; i <= recipients; ++i) {
    std::string domain = "d" + std::to_string(i % 3) + ".test";
    EXPECT_EQ(
        (*store)->upsert("user" + std::to_string(i) + "@" + domain, domain, "{\"n\":\"" + std::to_string(i) + "\"}"),
        RecipientStore::Upsert::kInserted);
  }
  EXPECT_TRUE((*store)->commitBatch());
  return path;
}

// One column of one row through SQLite itself, "<null>" for NULL, "<none>" for no row.
inline std::string query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string out = "<none>";
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out = t ? reinterpret_cast<const char*>(t) : "<null>";
  } else {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(h);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

// A second connection that takes the database's write lock, as `lbmail suppress import` does
// for its transaction: another connection's writes fail with SQLITE_BUSY meanwhile (with no
// busy timeout).
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& db) { sqlite3_open(db.c_str(), &h_); }
  ~WriteLockHolder() { sqlite3_close(h_); }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;
  bool hold() { return sqlite3_exec(h_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK; }
  bool release() { return sqlite3_exec(h_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK; }

 private:
  sqlite3* h_ = nullptr;
};

}  // namespace lbmail::test
