// Tests of the lbmail binary itself: command line, configuration errors, every mode's lifecycle.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "child_process.h"
#include "lbmail/core/service_config.h"
#include "log_fields.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

using test::addrField;
using test::ChildProcess;
using test::exitCode;
using test::testEnv;

std::string binary() { return testEnv("LBMAIL_BINARY"); }
std::string exampleConfig(std::string_view mode) {
  return testEnv("LBMAIL_SOURCE_ROOT") + "/configs/" + std::string(mode) + ".toml";
}

// The example config with its admin address moved to a free port, so tests never collide.
void replaceOnce(std::string& text, const std::string& from, const std::string& to) {
  if (size_t at = text.find(from); at != std::string::npos) text.replace(at, from.size(), to);
}

std::string configOnFreePort(std::string_view mode) {
  std::ifstream in(exampleConfig(mode));
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  // Every listen address (admin, sink, ...) moves to port 0.
  const std::string kListen = "\nlisten = \"127.0.0.1:";
  for (size_t at = body.find(kListen); at != std::string::npos; at = body.find(kListen, at + 1)) {
    size_t end = body.find('"', at + kListen.size());
    body.replace(at, end - at + 1, "\nlisten = \"127.0.0.1:0\"");
  }
  // Key files must be private to their owner: the test makes one for every reference.
  const std::string kKey = "key_file = \"/etc/lbmail/link.key\"";
  std::string key = test::tempPath("link.key");
  std::ofstream(key) << "an example key of more than sixteen bytes\n";
  ::chmod(key.c_str(), 0600);
  for (size_t at = body.find(kKey); at != std::string::npos; at = body.find(kKey, at + 1)) {
    body.replace(at, kKey.size(), "key_file = \"" + key + "\"");
  }
  // The initiator's database is the test's own, made by import (the initiator refuses one that
  // is missing or empty), and it keeps serving once its campaign is over.
  if (mode == "initiator") {
    std::string csv = test::tempPath("initiator-recipients.csv");
    std::string db = test::tempPath("initiator-recipients.db");
    std::ofstream(csv) << "email,first_name\nreader@example.test,Ann\n";
    ChildProcess importer({binary(), "import", csv, "--db", db});
    EXPECT_EQ(exitCode(importer.wait()), 0) << importer.err();
    replaceOnce(body, "database = \"/var/lib/lbmail/recipients.db\"", "database = \"" + db + "\"");
  }
  replaceOnce(body, "exit_when_done = true", "exit_when_done = false");
  // The simulation's world goes to the test's scratch space.
  replaceOnce(body, "work_dir = \"sim-out\"", "work_dir = \"" + test::tempPath("sim-out") + "\"");
  std::string path = test::tempPath(std::string(mode) + ".toml");
  std::ofstream(path) << body;
  return path;
}

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv);
  int status = p.wait();
  return {exitCode(status), p.out(), p.err()};
}

TEST(Cli, VersionNamesEveryLibrary) {
  RunResult r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  for (const char* lib : {"lbmail ", "libuv", "c-ares", "llhttp", "toml++", "xxHash", "allocator"}) {
    EXPECT_NE(r.out.find(lib), std::string::npos) << r.out;
  }
}

TEST(Cli, NoArgumentsIsAUsageError) {
  RunResult r = run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage: lbmail <mode>"), std::string::npos);
}

TEST(Cli, UnknownModeIsAUsageError) {
  RunResult r = run({"relay", "-c", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "lbmail: unknown mode 'relay' (see 'lbmail --help')\n");
}

TEST(Cli, UnknownFlagIsAUsageError) {
  RunResult r = run({"gateway", "-c", exampleConfig("gateway"), "--verbose"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "lbmail: gateway: unknown option '--verbose' (see 'lbmail gateway --help')\n");
}

TEST(Cli, MissingConfigIsAUsageError) {
  RunResult r = run({"sink"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("-c FILE is required"), std::string::npos);
  EXPECT_EQ(run({"sink", "-c"}).code, 2);
}

TEST(Cli, ModeHelpDescribesTheMode) {
  RunResult r = run({"initiator", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("usage: lbmail initiator -c FILE"), std::string::npos);
  EXPECT_NE(r.out.find("127.0.0.1:9100"), std::string::npos);
}

TEST(Cli, MisspelledKeyExits2NamingKeyAndLine) {
  std::string path = test::tempPath("typo.toml");
  std::ofstream(path) << "[node]\nname = \"gw\"\n\n[admin]\nlisten = \"127.0.0.1:0\"\nidle_timeuot = \"5s\"\n";
  RunResult r = run({"sink", "-c", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "lbmail: " + path + ":6:16: admin.idle_timeuot: unknown key (did you mean 'idle_timeout'?)\n");
}

TEST(Cli, BadValueExits2NamingWhatWasExpected) {
  std::string path = test::tempPath("badvalue.toml");
  std::ofstream(path) << "[admin]\nmax_connections = -4\n";
  RunResult r = run({"gateway", "--config", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "lbmail: " + path + ":2:19: admin.max_connections: expected an integer from 1 to 100000, got integer -4\n");
}

TEST(Cli, UnreadableConfigExits2) {
  RunResult r = run({"gateway", "-c", "/nonexistent.toml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "lbmail: cannot read config file /nonexistent.toml: No such file or directory\n");
}

TEST(Cli, BusyAdminPortExits1) {
  ChildProcess first({binary(), "sink", "-c", configOnFreePort("sink")});
  auto line = first.waitForStderrLine("event=admin.listening");
  ASSERT_TRUE(line) << first.err();
  auto taken = addrField(*line);
  ASSERT_TRUE(taken) << *line;
  std::string path = test::tempPath("busy.toml");
  std::ofstream(path) << "[admin]\nlisten = \"" << taken->toString() << "\"\n";
  RunResult second = run({"sink", "-c", path});
  EXPECT_EQ(second.code, 1);
  EXPECT_NE(second.err.find("event=admin.listen_failed"), std::string::npos) << second.err;
  first.signal(SIGTERM);
  EXPECT_EQ(exitCode(first.wait()), 0);
}

class ModeLifecycle : public ::testing::TestWithParam<const char*> {};

TEST_P(ModeLifecycle, ExampleConfigIsValid) {
  RunResult r = run({GetParam(), "-c", exampleConfig(GetParam()), "--check-config"});
  EXPECT_EQ(r.code, 0) << r.err;
}

// Starts the mode with its example config, scrapes /metrics and /status, and stops it with SIGTERM.
TEST_P(ModeLifecycle, ServesAdminAndExitsCleanlyOnSigterm) {
  std::string mode = GetParam();
  ChildProcess p({binary(), mode, "-c", configOnFreePort(mode)});
  ASSERT_TRUE(p.started());
  auto line = p.waitForStderrLine("event=admin.listening");
  ASSERT_TRUE(line) << p.err();
  auto addr = addrField(*line);
  ASSERT_TRUE(addr) << *line;
  EXPECT_NE(addr->port(), defaultAdminPort(*parseMode(mode))) << "the test config should have asked for port 0";

  auto metrics = test::httpGet(*addr, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  test::Validation v = test::validateDocument("prometheus", metrics->body);
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_NE(metrics->body.find("mode=\"" + mode + "\""), std::string::npos);

  auto status = test::httpGet(*addr, "/status");
  ASSERT_TRUE(status);
  EXPECT_TRUE(test::validateDocument("json", status->body).ok) << status->body;
  EXPECT_NE(status->body.find("\"state\":\"running\""), std::string::npos) << status->body;

  auto health = test::httpGet(*addr, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  p.signal(SIGTERM);
  EXPECT_EQ(exitCode(p.wait()), 0) << p.err();
  EXPECT_NE(p.err().find("event=process.exit code=0"), std::string::npos) << p.err();
  EXPECT_EQ(p.err().find("shutdown.handle_left"), std::string::npos) << p.err();
}

TEST_P(ModeLifecycle, SigintAlsoExitsCleanly) {
  std::string mode = GetParam();
  ChildProcess p({binary(), mode, "-c", configOnFreePort(mode)});
  ASSERT_TRUE(p.waitForStderrLine("event=process.started")) << p.err();
  p.signal(SIGINT);
  EXPECT_EQ(exitCode(p.wait()), 0) << p.err();
}

INSTANTIATE_TEST_SUITE_P(EveryMode, ModeLifecycle, ::testing::Values("initiator", "gateway", "sink", "sim"));

}  // namespace
}  // namespace lbmail
