// Tests for src/initiator/recipient_import.cc and recipient_store.cc on real files and a real
// SQLite database, and for `lbmail import` as a process (a million rows in bounded memory).
#include "recipient_import.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <fstream>

#include "child_process.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

std::string writeFile(const std::string& name, const std::string& text) {
  std::string path = test::tempPath(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string freshDb(const std::string& name) {
  std::string path = test::tempPath(name);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

// One column of one row, through SQLite itself.
std::string query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  sqlite3_stmt* st = nullptr;
  std::string out = "<none>";
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out = t ? reinterpret_cast<const char*>(t) : "<null>";
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

TEST(NormaliseAddress, DomainLowerCasedAndIdnToALabel) {
  EXPECT_EQ(*normaliseAddress("  Ana.Silva@Example.COM "), "Ana.Silva@example.com");
  EXPECT_EQ(*normaliseAddress("kunde@Bücher.DE"), "kunde@xn--bcher-kva.de");
  EXPECT_EQ(*normaliseAddress("x@xn--bcher-kva.de"), "x@xn--bcher-kva.de");
  EXPECT_FALSE(normaliseAddress("nobody"));
  EXPECT_FALSE(normaliseAddress("a@b.test\r\nRCPT TO:<c@d.test>"));
  EXPECT_FALSE(normaliseAddress("jörg@example.com"));  // SMTPUTF8 local parts are not sent
  EXPECT_FALSE(normaliseAddress("a@exa mple.com"));
}

// A Quoted-string local part is what the gateway then sends (RFC 5321 section 4.1.2); what it
// would refuse, '<' or '>' inside the quotes, is refused here with the reason.
TEST(NormaliseAddress, QuotedLocalPartsAsTheGatewaySendsThem) {
  EXPECT_EQ(*normaliseAddress("\"quoted local\"@Web.TEST"), "\"quoted local\"@web.test");
  EXPECT_EQ(*normaliseAddress("\"a\\\"b\"@web.test"), "\"a\\\"b\"@web.test");
  auto angle = normaliseAddress("\"a>b\"@web.test");
  ASSERT_FALSE(angle);
  EXPECT_EQ(angle.error(), "'<' or '>' in quoted local part (receivers misread the path)");
  EXPECT_FALSE(normaliseAddress("\"a\\<b\"@web.test"));
  EXPECT_FALSE(normaliseAddress("\"unterminated@web.test"));
}

TEST(RecipientImport, RowsAttributesAndRejectsWithLineNumbers) {
  std::string csv = writeFile("import.csv",
                              "\xEF\xBB\xBF"
                              "email,first_name,city\r\n"
                              "Ana@Example.COM,Ana,\"Lisboa, PT\"\r\n"
                              "bob@example.org,\"Bob \"\"B\"\"\",\"two\nlines\"\r\n"
                              "not-an-address,X,Y\r\n"
                              "short,row\r\n"
                              "\"a@b.test\r\nBcc: x@y.test\",Z,Z\r\n"
                              "carol@example.org,Carol,\xff\xfe\r\n"
                              "dave@example.org,Dave,Oslo\r\n");
  std::string db = freshDb("import.db");
  auto store = RecipientStore::open(db);
  ASSERT_TRUE(store) << store.error();
  std::vector<std::pair<uint64_t, std::string>> rejects;
  auto report = importRecipients(csv, **store, [&](uint64_t line, std::string_view why) {
    rejects.push_back({line, std::string(why)});
  });
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->rows, 7u);
  EXPECT_EQ(report->inserted, 3u);
  EXPECT_EQ(report->rejected, 4u);
  EXPECT_EQ(rejects, (std::vector<std::pair<uint64_t, std::string>>{{5, "email: no '@'"},
                                                                    {6, "2 fields, the header has 3"},
                                                                    {7, "email: character not allowed in local part"},
                                                                    {9, "column 'city' is not valid UTF-8"}}));
  EXPECT_EQ((*store)->recipientCount(), 3u);
  EXPECT_EQ(query(db, "SELECT json_extract(attributes, '$.city') FROM recipients WHERE email = 'Ana@example.com'"),
            "Lisboa, PT");
  EXPECT_EQ(query(db,
                  "SELECT json_extract(attributes, '$.first_name') FROM recipients WHERE domain = 'example.org' "
                  "ORDER BY id LIMIT 1"),
            "Bob \"B\"");
  EXPECT_EQ(query(db, "SELECT json_extract(attributes, '$.city') FROM recipients WHERE email = 'bob@example.org'"),
            "two\nlines");
  EXPECT_EQ(query(db, "PRAGMA journal_mode"), "wal");

  // Importing again updates attributes and adds nothing.
  std::string again = writeFile("import2.csv", "city,email\nBergen,dave@EXAMPLE.org\n");
  auto second = importRecipients(again, **store, [](uint64_t, std::string_view) {});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->updated, 1u);
  EXPECT_EQ((*store)->recipientCount(), 3u);
  EXPECT_EQ(query(db, "SELECT json_extract(attributes, '$.city') FROM recipients WHERE email = 'dave@example.org'"),
            "Bergen");
}

TEST(RecipientImport, HeaderProblemsStopTheImport) {
  std::string db = freshDb("import-header.db");
  auto store = RecipientStore::open(db);
  ASSERT_TRUE(store);
  auto none = [](uint64_t, std::string_view) {};
  auto r = importRecipients(writeFile("h1.csv", "name,city\nx,y\n"), **store, none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "the header has no 'email' column");
  r = importRecipients(writeFile("h2.csv", "email,city,city\n"), **store, none);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("column 'city' appears twice"), std::string::npos);
  r = importRecipients(writeFile("h3.csv", ""), **store, none);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("empty file"), std::string::npos);
  r = importRecipients(test::tempPath("missing.csv"), **store, none);
  ASSERT_FALSE(r);
}

TEST(RecipientImport, AMillionRowsThroughTheCommandInBoundedMemory) {
  std::string csv = test::tempPath("million.csv");
  {
    std::ofstream out(csv, std::ios::binary);
    out << "email,first_name,segment,score\n";
    char line[128];
    for (int i = 0; i < 1'000'000; ++i) {
      int n =
          std::snprintf(line, sizeof line, "user%d@domain%d.example,Name%d,seg%d,%d\n", i, i % 5000, i, i % 7, i % 100);
      out.write(line, n);
    }
  }
  std::string db = freshDb("million.db");
  test::ChildProcess p({test::testEnv("LBMAIL_BINARY"), "import", csv, "--db", db});
  rusage usage{};
  int status = p.wait(std::chrono::seconds(240), &usage);
  ASSERT_EQ(test::exitCode(status), 0) << p.err();
  EXPECT_NE(p.out().find("import: 1000000 rows: 1000000 added, 0 updated, 0 rejected"), std::string::npos) << p.out();
#if !LBMAIL_SANITIZED
  // Streaming: the file is 45 MB. (Under AddressSanitizer the shadow memory and quarantine make
  // the resident size meaningless; the plain build checks it.)
  EXPECT_LT(usage.ru_maxrss, 64 * 1024) << "peak resident KiB";
#endif
  EXPECT_EQ(query(db, "SELECT count(*) FROM recipients"), "1000000");
  EXPECT_EQ(query(db, "SELECT count(DISTINCT domain) FROM recipients"), "5000");
  std::remove(csv.c_str());
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

}  // namespace
}  // namespace lbmail
