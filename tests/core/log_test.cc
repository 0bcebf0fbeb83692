// Tests for the key=value log format, level filtering and rate limiting of repeats.
#include "lbmail/core/log.h"

#include <gtest/gtest.h>

#include <vector>

namespace lbmail {
namespace {

using namespace std::chrono_literals;

class LogTest : public ::testing::Test {
 protected:
  LogTest()
      : log_([this](std::string_view line) { lines_.emplace_back(line); },
             [this] { return now_; }) {}

  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::time_point(1'790'000'000s + 123456us);
  std::vector<std::string> lines_;
  Logger log_;
};

TEST_F(LogTest, WritesOneKeyValueLinePerEvent) {
  log_.log(LogLevel::kInfo, "admin.listening", {{"addr", "127.0.0.1:9101"}, {"port", 9101}, {"ok", true}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "ts=2026-09-21T14:13:20.123456Z level=info event=admin.listening addr=127.0.0.1:9101 port=9101 ok=true\n");
}

TEST_F(LogTest, QuotesAndEscapesValuesSoALineStaysOneLine) {
  log_.log(LogLevel::kWarn, "smtp.reply", {{"text", "550 no such\r\nuser \"x\""}, {"empty", ""}, {"eq", "a=b"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find(R"(text="550 no such\r\nuser \"x\"")"), std::string::npos) << lines_[0];
  EXPECT_NE(lines_[0].find(R"(empty="")"), std::string::npos);
  EXPECT_NE(lines_[0].find(R"(eq="a=b")"), std::string::npos);
  EXPECT_EQ(lines_[0].find('\n'), lines_[0].size() - 1);
}

TEST_F(LogTest, EscapesControlBytes) {
  log_.log(LogLevel::kInfo, "x", {{"v", std::string_view("a\x01\x7f", 3)}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find(R"(v="a\x01\x7f")"), std::string::npos) << lines_[0];
}

TEST_F(LogTest, FormatsNumbers) {
  log_.log(LogLevel::kInfo, "n", {{"neg", -5}, {"big", uint64_t{18446744073709551615ull}}, {"ratio", 0.25}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("neg=-5 big=18446744073709551615 ratio=0.25"), std::string::npos) << lines_[0];
}

TEST_F(LogTest, DropsLinesBelowTheLevel) {
  log_.setLevel(LogLevel::kWarn);
  log_.log(LogLevel::kDebug, "a", {});
  log_.log(LogLevel::kInfo, "b", {});
  log_.log(LogLevel::kError, "c", {});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("level=error event=c"), std::string::npos);
}

TEST_F(LogTest, HoldsBackIdenticalErrorsWithinTheInterval) {
  log_.setRepeatInterval(10s);
  for (int i = 0; i < 5; ++i) log_.log(LogLevel::kError, "dns.timeout", {{"domain", "example.test"}});
  EXPECT_EQ(lines_.size(), 1u);
  EXPECT_EQ(log_.suppressedTotal(), 4u);
  // A different field value is a different line and is written.
  log_.log(LogLevel::kError, "dns.timeout", {{"domain", "other.test"}});
  EXPECT_EQ(lines_.size(), 2u);
  // After the interval the next identical line is written and reports what was held back.
  now_ += 11s;
  log_.log(LogLevel::kError, "dns.timeout", {{"domain", "example.test"}});
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_NE(lines_[2].find("repeated=4"), std::string::npos) << lines_[2];
  log_.log(LogLevel::kError, "dns.timeout", {{"domain", "example.test"}});
  EXPECT_EQ(lines_.size(), 3u);
}

TEST_F(LogTest, LinesWithOneRepeatKeyAreRepeatsWhateverTheirFields) {
  log_.setRepeatInterval(10s);
  log_.log(LogLevel::kWarn, "link.refused", {{"peer", "192.0.2.1:1001"}, {"reason", "a"}}, "192.0.2.1");
  log_.log(LogLevel::kWarn, "link.evicted", {{"peer", "192.0.2.1:1002"}, {"reason", "b"}}, "192.0.2.1");
  log_.log(LogLevel::kWarn, "link.refused", {{"peer", "192.0.2.1:1003"}, {"reason", "c"}}, "192.0.2.1");
  EXPECT_EQ(lines_.size(), 1u);
  // Another key is another peer.
  log_.log(LogLevel::kWarn, "link.refused", {{"peer", "192.0.2.2:1001"}, {"reason", "a"}}, "192.0.2.2");
  EXPECT_EQ(lines_.size(), 2u);
  now_ += 11s;
  log_.log(LogLevel::kWarn, "link.evicted", {{"peer", "192.0.2.1:1004"}, {"reason", "d"}}, "192.0.2.1");
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_NE(lines_[2].find("repeated=2"), std::string::npos) << lines_[2];
}

TEST_F(LogTest, NeverHoldsBackInfoLines) {
  for (int i = 0; i < 3; ++i) log_.log(LogLevel::kInfo, "tick", {});
  EXPECT_EQ(lines_.size(), 3u);
}

TEST_F(LogTest, KeepsRepeatMemoryBounded) {
  log_.setRepeatInterval(1h);
  for (int i = 0; i < 10000; ++i) log_.log(LogLevel::kWarn, "w", {{"i", i}});
  // Every line is distinct, so all are written however many windows are tracked.
  EXPECT_EQ(lines_.size(), 10000u);
}

TEST(LogLevel, ParsesNames) {
  LogLevel l = LogLevel::kInfo;
  EXPECT_TRUE(parseLogLevel("debug", l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_FALSE(parseLogLevel("verbose", l));
  EXPECT_EQ(logLevelName(LogLevel::kWarn), "warn");
}

}  // namespace
}  // namespace lbmail
