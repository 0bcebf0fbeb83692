// Tests for typed, validated reading of TOML configuration.
#include "lbmail/core/config_document.h"

#include <gtest/gtest.h>

#include "temp_path.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

struct Sample {
  std::string name;
  int64_t workers = 0;
  bool verbose = false;
  Duration timeout{};
  uint64_t buffer = 0;
  SocketAddress listen;
  size_t policy = 0;
  std::vector<std::string> peers;
};

Sample readSample(ConfigTable& root) {
  Sample s;
  s.name = root.string("name", "default");
  ConfigTable net = root.table("net");
  s.workers = net.integer("workers", 4, 1, 64);
  s.verbose = net.boolean("verbose", false);
  s.timeout = net.duration("timeout", 5s, 1ms, 1h);
  s.buffer = net.size("buffer", 4096, 512, 1 << 20);
  s.listen = net.address("listen", *SocketAddress::parse("127.0.0.1:1"));
  s.policy = net.choice("policy", {"ewma", "round_robin"}, 0);
  s.peers = net.stringArray("peers");
  return s;
}

// Loads text as file "test.toml"; returns the error message or "" on success.
std::string loadError(std::string_view text, Sample* out = nullptr) {
  auto doc = ConfigDocument::parseString(text, "test.toml");
  if (!doc) return doc.error();
  try {
    ConfigTable root = doc->root();
    Sample s = readSample(root);
    doc->rejectUnknownKeys();
    if (out) *out = s;
    return "";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

TEST(ConfigDocument, ReadsEveryTypedValue) {
  Sample s;
  EXPECT_EQ(loadError(R"(
name = "gw1"
[net]
workers = 8
verbose = true
timeout = "250ms"
buffer = "64KiB"
listen = "[::1]:9101"
policy = "round_robin"
peers = ["a", "b"]
)",
                      &s),
            "");
  EXPECT_EQ(s.name, "gw1");
  EXPECT_EQ(s.workers, 8);
  EXPECT_TRUE(s.verbose);
  EXPECT_EQ(s.timeout, Duration(250ms));
  EXPECT_EQ(s.buffer, 65536u);
  EXPECT_EQ(s.listen.toString(), "[::1]:9101");
  EXPECT_EQ(s.policy, 1u);
  EXPECT_EQ(s.peers, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigDocument, GivesDefaultsForAbsentKeysAndTables) {
  Sample s;
  EXPECT_EQ(loadError("", &s), "");
  EXPECT_EQ(s.name, "default");
  EXPECT_EQ(s.workers, 4);
  EXPECT_EQ(s.timeout, Duration(5s));
  EXPECT_EQ(s.buffer, 4096u);
  EXPECT_EQ(s.listen.toString(), "127.0.0.1:1");
  EXPECT_TRUE(s.peers.empty());
}

TEST(ConfigDocument, AcceptsIntegerSizes) {
  Sample s;
  EXPECT_EQ(loadError("[net]\nbuffer = 1024\n", &s), "");
  EXPECT_EQ(s.buffer, 1024u);
}

TEST(ConfigDocument, UnknownKeyNamesFileLineKeyAndSuggestion) {
  EXPECT_EQ(loadError("[net]\nworkers = 2\ntimeuot = \"1s\"\n"),
            "test.toml:3:11: net.timeuot: unknown key (did you mean 'timeout'?)");
}

TEST(ConfigDocument, UnknownTableIsReported) {
  EXPECT_EQ(loadError("name = \"x\"\n[nett]\nworkers = 2\n"), "test.toml:2:1: nett: unknown key (did you mean 'net'?)");
}

TEST(ConfigDocument, ReportsTheFirstUnknownKeyAndCountsTheRest) {
  EXPECT_EQ(loadError("zzz = 1\n[net]\nyyy = 2\nxxx = 3\n"), "test.toml:1:7: zzz: unknown key (and 2 more unknown keys)");
}

TEST(ConfigDocument, UnknownKeyWithoutCloseMatchHasNoSuggestion) {
  EXPECT_EQ(loadError("[net]\ncompletely_different = 1\n"), "test.toml:2:24: net.completely_different: unknown key");
}

struct BadValue {
  const char* text;
  const char* expected_message;
};

class ConfigBadValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigBadValue, NamesLineKeyAndWhatWasExpected) { EXPECT_EQ(loadError(GetParam().text), GetParam().expected_message); }

INSTANTIATE_TEST_SUITE_P(
    EveryKind, ConfigBadValue,
    ::testing::Values(
        BadValue{"name = 5\n", "test.toml:1:8: name: expected a string, got integer 5"},
        BadValue{"[net]\nworkers = \"8\"\n",
                 "test.toml:2:11: net.workers: expected an integer from 1 to 64, got string \"8\""},
        BadValue{"[net]\nworkers = 0\n", "test.toml:2:11: net.workers: expected an integer from 1 to 64, got integer 0"},
        BadValue{"[net]\nworkers = 65\n",
                 "test.toml:2:11: net.workers: expected an integer from 1 to 64, got integer 65"},
        BadValue{"[net]\nverbose = \"yes\"\n", "test.toml:2:11: net.verbose: expected true or false, got string \"yes\""},
        BadValue{"[net]\ntimeout = 5\n",
                 "test.toml:2:11: net.timeout: expected a duration with a unit (ns, us, ms, s, m, h, d) from 1ms to 1h, "
                 "like \"250ms\" or \"5s\", got integer 5"},
        BadValue{"[net]\ntimeout = \"2h\"\n",
                 "test.toml:2:11: net.timeout: expected a duration with a unit (ns, us, ms, s, m, h, d) from 1ms to 1h, "
                 "like \"250ms\" or \"5s\", got string \"2h\""},
        BadValue{"[net]\nbuffer = \"10 MiB\"\n",
                 "test.toml:2:10: net.buffer: expected a size in bytes from 512 to 1048576, like \"16KiB\", \"10MiB\" "
                 "or 4096, got string \"10 MiB\""},
        BadValue{"[net]\nbuffer = -1\n",
                 "test.toml:2:10: net.buffer: expected a size in bytes from 512 to 1048576, like \"16KiB\", \"10MiB\" "
                 "or 4096, got integer -1"},
        BadValue{"[net]\nlisten = \"localhost:80\"\n",
                 "test.toml:2:10: net.listen: expected an IP address and port like \"127.0.0.1:9101\" or "
                 "\"[::1]:9101\", got string \"localhost:80\""},
        BadValue{"[net]\npolicy = \"fastest\"\n",
                 "test.toml:2:10: net.policy: expected one of \"ewma\" \"round_robin\", got string \"fastest\""},
        BadValue{"[net]\npeers = [\"a\", 1]\n", "test.toml:2:9: net.peers: expected an array of strings, got an array"},
        BadValue{"net = 3\n", "test.toml:1:7: net: expected a table, got integer 3"}));

TEST(ConfigDocument, SyntaxErrorNamesLineAndColumn) {
  std::string err = loadError("[net]\nworkers = = 3\n");
  EXPECT_EQ(err.rfind("test.toml:2:", 0), 0u) << err;
  EXPECT_NE(err.find("invalid TOML"), std::string::npos) << err;
}

TEST(ConfigDocument, DuplicateKeyIsASyntaxError) {
  std::string err = loadError("name = \"a\"\nname = \"b\"\n");
  EXPECT_EQ(err.rfind("test.toml:2:", 0), 0u) << err;
}

TEST(ConfigDocument, MissingFileIsAnError) {
  auto doc = ConfigDocument::parseFile("/nonexistent/lbmail.toml");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error(), "cannot read config file /nonexistent/lbmail.toml: No such file or directory");
}

TEST(ConfigDocument, ADirectoryOrDeviceIsNotAConfigFile) {
  auto dir = ConfigDocument::parseFile(::testing::TempDir());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().find("is not a regular file"), std::string::npos) << dir.error();
  auto dev = ConfigDocument::parseFile("/dev/zero");
  ASSERT_FALSE(dev);
  EXPECT_NE(dev.error().find("is not a regular file"), std::string::npos) << dev.error();
}

TEST(ConfigDocument, DeepNestingIsRefusedBeforeParsing) {
  std::string dotted = "a";
  for (int i = 0; i < 100000; ++i) dotted += ".a";
  EXPECT_EQ(loadError("\n" + dotted + " = 1\n"), "test.toml:2: nesting deeper than 32 levels");
  EXPECT_EQ(loadError("x = " + std::string(50, '[') + std::string(50, ']') + "\n"),
            "test.toml:1: nesting deeper than 32 levels");
  // Brackets and dots inside strings and comments do not count.
  EXPECT_EQ(loadError("name = \"" + std::string(100, '[') + "....\" # [[[[....\n"), "");
}

TEST(ConfigDocument, ControlCharactersNeverReachTheTerminal) {
  std::string err = loadError("[net]\n\"evil\\u001b[2J\" = 1\n");
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  EXPECT_NE(err.find("net.evil?[2J: unknown key"), std::string::npos) << err;
}

TEST(ConfigDocument, LoadConfigFileRunsTheReaderAndRejectsUnknownKeys) {
  std::string path = test::tempPath("config_document.toml");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("name = \"x\"\nextra = 1\n", f);
  std::fclose(f);
  auto loaded = loadConfigFile<Sample>(path, readSample);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error(), path + ":2:9: extra: unknown key");
}

}  // namespace
}  // namespace lbmail
