// Tests for reading the gateway's [shaping] table.
#include "lbmail/shaping/shaping_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_path.h"

namespace lbmail::shaping {
namespace {

using namespace std::chrono_literals;

std::string configDir() {
  std::string dir = test::tempPath("shaping-config");
  std::filesystem::create_directories(dir);
  return dir;
}

Expected<ShapingConfig, std::string> load(const std::string& text) {
  std::string path = configDir() + "/gateway.toml";
  std::ofstream(path) << text;
  return loadConfigFile<ShapingConfig>(path, [&path](ConfigTable& root) {
    ConfigTable shaping = root.table("shaping");
    return readShapingConfig(shaping, path);
  });
}

int64_t daysSinceEpoch(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days(std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m),
                                                           std::chrono::day(d)))
      .time_since_epoch()
      .count();
}

TEST(ShapingConfig, DefaultsAreGentleAndKeepNoFiles) {
  auto c = load("");
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->rules_file, "");
  EXPECT_EQ(c->state_file, "");
  EXPECT_EQ(c->suspend_for, Duration(1h));
  EXPECT_DOUBLE_EQ(c->aimd.decrease, 0.85);
  EXPECT_EQ(c->aimd.cut_spacing, Duration(2s));
  EXPECT_EQ(c->aimd.quiet, Duration(10s));
  EXPECT_DOUBLE_EQ(c->aimd.increase, 0.02);
  EXPECT_EQ(c->aimd.recover_step, Duration(1s));
  EXPECT_DOUBLE_EQ(c->aimd.min_rate, 0.1);
  EXPECT_TRUE(c->warmup.empty());
  EXPECT_EQ(c->save_interval, Duration(5s));
  EXPECT_EQ(c->report_interval, Duration(1s));
}

TEST(ShapingConfig, ReadsEveryKeyAndResolvesPathsAgainstTheConfigFolder) {
  std::ofstream(configDir() + "/shaping-rules.toml") << "";
  auto c = load(
      "[shaping]\nenabled = false\nrules_file = \"shaping-rules.toml\"\nsuspend_for = \"30m\"\n"
      "state_file = \"lbmail-shaping.state\"\nsave_interval = \"2s\"\nreport_interval = \"500ms\"\n"
      "[shaping.aimd]\ndecrease = 0.5\ncut_spacing = \"1s\"\nquiet = \"20s\"\nincrease = 1\n"
      "recover_step = \"250ms\"\nmin_rate = 2\n"
      "[[shaping.warmup]]\nsource = \"203.0.113.7\"\nstart = \"2026-12-01\"\ndaily_caps = [50, 100, 500]\n"
      "[[shaping.warmup]]\nstart = \"1970-01-01\"\ndaily_caps = [7]\n"
      "[[shaping.warmup]]\nsource = \"2001:DB8:0::7\"\nstart = \"2024-02-29\"\ndaily_caps = [1]\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->enabled);
  auto inConfigDir = [](const std::string& name) {
    return (std::filesystem::path(configDir()) / name).lexically_normal().string();
  };
  EXPECT_EQ(c->rules_file, inConfigDir("shaping-rules.toml"));
  EXPECT_EQ(c->state_file, inConfigDir("lbmail-shaping.state"));
  EXPECT_EQ(c->suspend_for, Duration(30min));
  EXPECT_EQ(c->save_interval, Duration(2s));
  EXPECT_EQ(c->report_interval, Duration(500ms));
  EXPECT_DOUBLE_EQ(c->aimd.decrease, 0.5);
  EXPECT_EQ(c->aimd.cut_spacing, Duration(1s));
  EXPECT_EQ(c->aimd.quiet, Duration(20s));
  EXPECT_DOUBLE_EQ(c->aimd.increase, 1);
  EXPECT_EQ(c->aimd.recover_step, Duration(250ms));
  EXPECT_DOUBLE_EQ(c->aimd.min_rate, 2);
  ASSERT_EQ(c->warmup.size(), 3u);
  EXPECT_EQ(c->warmup[0].source, "203.0.113.7");
  EXPECT_EQ(c->warmup[0].start, "2026-12-01");
  EXPECT_EQ(c->warmup[0].start_day, daysSinceEpoch(2026, 12, 1));
  EXPECT_EQ(c->warmup[0].daily_caps, (std::vector<uint64_t>{50, 100, 500}));
  EXPECT_EQ(c->warmup[1].source, "");
  EXPECT_EQ(c->warmup[1].start_day, 0);
  // Spelled as the delivery engine spells its source addresses.
  EXPECT_EQ(c->warmup[2].source, "2001:db8::7");
  EXPECT_EQ(c->warmup[2].start_day, daysSinceEpoch(2024, 2, 29));
}

TEST(ShapingConfig, AbsolutePathsStayAndEmptyMeansNone) {
  auto c = load("[shaping]\nstate_file = \"/var/lib/lbmail/shaping.state\"\nrules_file = \"\"\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->state_file, "/var/lib/lbmail/shaping.state");
  EXPECT_EQ(c->rules_file, "");
}

struct BadConfig {
  const char* text;
  const char* key;       // the error names it...
  const char* expected;  // ...and says this
};

void expectErrors(const std::vector<BadConfig>& cases) {
  for (const BadConfig& b : cases) {
    auto c = load(b.text);
    ASSERT_FALSE(c) << b.text;
    EXPECT_NE(c.error().find(b.key), std::string::npos) << c.error();
    EXPECT_NE(c.error().find(b.expected), std::string::npos) << c.error();
    EXPECT_NE(c.error().find("gateway.toml"), std::string::npos) << c.error();
  }
}

TEST(ShapingConfig, RejectsAimdOutOfRange) {
  expectErrors({
      {"[shaping.aimd]\ndecrease = 1\n", "shaping.aimd.decrease", "less than 1"},
      {"[shaping.aimd]\ndecrease = 0\n", "shaping.aimd.decrease", "greater than 0"},
      {"[shaping.aimd]\ndecrease = 1.5\n", "shaping.aimd.decrease", "from 0 to 1"},
      {"[shaping.aimd]\nincrease = 0\n", "shaping.aimd.increase", "greater than 0"},
      {"[shaping.aimd]\nincrease = 1.01\n", "shaping.aimd.increase", "from 0 to 1"},
      {"[shaping.aimd]\nrecover_step = \"0s\"\n", "shaping.aimd.recover_step", "duration"},
      {"[shaping.aimd]\nquiet = \"10\"\n", "shaping.aimd.quiet", "with a unit"},
      {"[shaping.aimd]\nmin_rate = 0\n", "shaping.aimd.min_rate", "a number from"},
      {"[shaping.aimd]\ndecrese = 0.5\n", "decrese", "unknown"},
  });
}

TEST(ShapingConfig, RejectsBadDurationsAndFiles) {
  expectErrors({
      {"[shaping]\nsuspend_for = \"-1h\"\n", "shaping.suspend_for", "duration"},
      {"[shaping]\nsuspend_for = \"365d\"\n", "shaping.suspend_for", "duration"},
      {"[shaping]\nsave_interval = \"0s\"\n", "shaping.save_interval", "duration"},
      {"[shaping]\nreport_interval = \"1h\"\n", "shaping.report_interval", "duration"},
      {"[shaping]\nrules_file = \"no-such-rules.toml\"\n", "shaping.rules_file", "readable"},
      {"[shaping]\nenabled = \"yes\"\n", "shaping.enabled", "true or false"},
  });
}

TEST(ShapingConfig, RejectsBadWarmupCaps) {
  expectErrors({
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = []\n", "daily_caps", "non-empty"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\n", "daily_caps", "non-empty"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = [10, 0]\n", "daily_caps", "integers from 1"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = [10, -5]\n", "daily_caps", "integers from 1"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = [\"10\"]\n", "daily_caps", "integers"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = [1.5]\n", "daily_caps", "integers"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = 10\n", "daily_caps", "an array of integers"},
  });
}

TEST(ShapingConfig, RejectsBadWarmupStartsAndSources) {
  expectErrors({
      {"[[shaping.warmup]]\ndaily_caps = [10]\n", "shaping.warmup.start", "YYYY-MM-DD"},
      {"[[shaping.warmup]]\nstart = \"2026-13-01\"\ndaily_caps = [10]\n", "start", "YYYY-MM-DD"},
      {"[[shaping.warmup]]\nstart = \"2026-02-29\"\ndaily_caps = [10]\n", "start", "YYYY-MM-DD"},
      {"[[shaping.warmup]]\nstart = \"2026-1-01\"\ndaily_caps = [10]\n", "start", "YYYY-MM-DD"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01T00:00\"\ndaily_caps = [10]\n", "start", "YYYY-MM-DD"},
      {"[[shaping.warmup]]\nstart = 2026-12-01\ndaily_caps = [10]\n", "start", "YYYY-MM-DD"},
      {"[[shaping.warmup]]\nsource = \"mx.example.com\"\nstart = \"2026-12-01\"\ndaily_caps = [10]\n",
       "shaping.warmup.source", "IP address"},
      {"[[shaping.warmup]]\nsource = \"203.0.113.7:25\"\nstart = \"2026-12-01\"\ndaily_caps = [10]\n",
       "shaping.warmup.source", "IP address"},
      {"[[shaping.warmup]]\nstart = \"2026-12-01\"\ndaily_caps = [10]\n"
       "[[shaping.warmup]]\nsource = \"\"\nstart = \"2026-12-02\"\ndaily_caps = [20]\n",
       "shaping.warmup.source", "no other"},
  });
}

}  // namespace
}  // namespace lbmail::shaping
