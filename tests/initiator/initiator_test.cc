// Tests for src/initiator/initiator.cc: `lbmail initiator` refuses a campaign database that
// `lbmail import` did not make, naming the key, and never creates one.
#include "initiator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "recipient_store.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

struct InitiatorExit {
  int code;
  std::string err;
};

// Runs the initiator over database (relative to the config's folder) until it exits.
InitiatorExit runInitiator(const std::string& dir, const std::string& database) {
  std::string config = dir + "/initiator.toml";
  std::ofstream(config) << "[admin]\nlisten = \"127.0.0.1:0\"\n[campaign]\nname = \"t\"\ndatabase = \"" << database
                        << "\"\nsender = \"bounces@shop.example\"\n[[campaign.material]]\nname = \"standard\"\n"
                           "from = \"news@shop.example\"\ntext = \"Hello\"\n[[gateway]]\nname = \"gw1\"\n"
                           "address = \"127.0.0.1:9\"\nkey_file = \"link.key\"\n";
  test::ChildProcess p({test::testEnv("LBMAIL_BINARY"), "initiator", "-c", config});
  int status = p.wait();
  return {test::exitCode(status), p.err()};
}

TEST(Initiator, RefusesADatabaseThatImportDidNotMake) {
  std::string dir = std::filesystem::path(test::tempPath("initiator-database")).lexically_normal();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // A typo: no empty database appears, and the campaign is not reported done.
  InitiatorExit missing = runInitiator(dir, "recipents.db");
  EXPECT_EQ(missing.code, 1) << missing.err;
  EXPECT_NE(missing.err.find("campaign.database_unusable"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("campaign.database"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find(dir + "/recipents.db"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("does not exist (lbmail import"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.err.find("campaign.done"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/recipents.db"));

  // A database with the schema and no one in it (every row of the CSV rejected, say).
  ASSERT_TRUE(RecipientStore::open(dir + "/empty.db"));
  InitiatorExit empty = runInitiator(dir, "empty.db");
  EXPECT_EQ(empty.code, 1) << empty.err;
  EXPECT_NE(empty.err.find("holds no recipients"), std::string::npos) << empty.err;

  // Some other file.
  std::ofstream(dir + "/notes.txt") << "not a database at all, but long enough to have a header of sorts\n";
  InitiatorExit other = runInitiator(dir, "notes.txt");
  EXPECT_EQ(other.code, 1) << other.err;
  EXPECT_NE(other.err.find("is not a recipient database"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace lbmail
