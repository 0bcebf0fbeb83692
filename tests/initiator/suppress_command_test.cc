// `lbmail suppress` as people run it (the real binary): add, remove, import with bad lines
// reported by number, list as CSV, and usage errors that say what is wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "ledger_test_support.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

struct CommandRun {
  int code = -1;
  std::string out;
  std::string err;
};

CommandRun suppress(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::testEnv("LBMAIL_BINARY"), "suppress"};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ChildProcess p(argv);
  CommandRun r;
  r.code = test::exitCode(p.wait(std::chrono::seconds(30)));
  r.out = p.out();
  r.err = p.err();
  return r;
}

TEST(SuppressCommand, AddRemoveImportAndListAsCsv) {
  std::string db = test::makeDatabase(0);
  CommandRun add = suppress({"add", "Ann@Example.com", "not-an-address", "--db", db, "--reason", "complaint"});
  EXPECT_EQ(add.code, 0) << add.err;
  EXPECT_EQ(add.out, "suppress add: 1 added, 0 unchanged, 1 bad\n");
  EXPECT_NE(add.err.find("'not-an-address'"), std::string::npos) << add.err;

  std::string file = test::tempPath("suppress-import.txt");
  std::ofstream(file) << "# unsubscribed at the shop\nbob@example.com\n\"Carl, the \"\"third\"\"\"@x\nann@example.com\n"
                      << "dora@example.com,Dora,2026\n";
  CommandRun import = suppress({"import", file, "--db", db, "--source", "shop"});
  EXPECT_EQ(import.code, 0) << import.err;
  EXPECT_EQ(import.out, "suppress import: 2 added, 1 already listed, 1 rejected\n");
  EXPECT_NE(import.err.find(file + ":3: "), std::string::npos) << import.err;

  CommandRun list = suppress({"list", "--db", db});
  EXPECT_EQ(list.code, 0) << list.err;
  std::istringstream lines(list.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line.substr(0, line.rfind(',')));
  EXPECT_EQ(rows, (std::vector<std::string>{"address,reason,source,campaign,detail",
                                            "ann@example.com,complaint,cli,,", "bob@example.com,manual,shop,,",
                                            "dora@example.com,manual,shop,,"}));
  CommandRun complaints = suppress({"list", "--db", db, "--reason", "complaint"});
  EXPECT_EQ(std::count(complaints.out.begin(), complaints.out.end(), '\n'), 2) << complaints.out;

  CommandRun remove = suppress({"remove", "BOB@example.com", "eve@example.com", "--db", db});
  EXPECT_EQ(remove.code, 0) << remove.err;
  EXPECT_EQ(remove.out, "suppress remove: 1 removed, 1 unchanged, 0 bad\n");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "2");
}

TEST(SuppressCommand, UsageAndFileErrorsAreClear) {
  std::string db = test::makeDatabase(0);
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{}, 2, "an action is needed"},
           {{"frob", "--db", db}, 2, "unknown action 'frob'"},
           {{"add", "a@example.com"}, 2, "--db FILE is required"},
           {{"add", "--db", db}, 2, "add needs an operand"},
           {{"add", "a@example.com", "--db", db, "--reason", "angry"}, 2, "unknown reason 'angry'"},
           {{"list", "x", "--db", db}, 2, "list takes no operand"},
           {{"list", "--db"}, 2, "--db needs a value"},
           {{"import", "/nonexistent/file", "--db", db}, 1, "/nonexistent/file: not a readable file"},
           {{"import", "/tmp", "--db", db}, 1, "/tmp: not a readable file"},
           {{"list", "--db", "/nonexistent/dir/x.db"}, 1, "/nonexistent/dir/x.db"},
       }) {
    CommandRun r = suppress(c.args);
    EXPECT_EQ(r.code, c.code) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace lbmail
