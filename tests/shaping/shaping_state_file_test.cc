// Tests for the shaping state file through ShapingTable::save and load: what survives a restart,
// what is dropped, and files that are not state files.
#include "lbmail/shaping/shaping_table.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_path.h"

namespace lbmail::shaping {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kDayMs = 86'400'000;
const std::string kSource = "203.0.113.7";
// 2026-12-05 10:00:00 UTC.
const uint64_t kStart = 20'792 * kDayMs + 10 * 3'600'000;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ShapingStateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = test::tempPath("shaping-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                           ".state");
    std::filesystem::remove(file_);
    config_.state_file = file_;
    config_.suspend_for = 1h;
    config_.warmup.push_back(WarmupPlan{"", "2026-12-05", {10}, 20'792});
  }
  void TearDown() override { std::filesystem::remove(file_); }

  std::unique_ptr<ShapingTable> make() {
    return std::make_unique<ShapingTable>(config_, [this] { return now_; });
  }
  void send(ShapingTable& t, const std::string& site, int count, uint64_t span_ms) {
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(t.admit(kSource, site).verdict, ShapingTable::Verdict::kGo);
      t.started(kSource, site);
      now_ += span_ms / static_cast<uint64_t>(count);
    }
  }
  // A gateway that throttled gmail, was blocked by yahoo and sent 4 messages to outlook today.
  void saveShapedState() {
    auto t = make();
    ASSERT_EQ(t->load(), "");
    send(*t, "gmail", 8, 4000);
    t->onReply(kSource, "gmail", ReplyClass::kThrottle, "421 4.7.28 unusual rate");
    t->onReply(kSource, "yahoo", ReplyClass::kBlock, "554 5.7.9 Message not accepted for policy reasons");
    send(*t, "outlook", 4, 1000);
    rate_ = t->rate(kSource, "gmail");
    ASSERT_GT(rate_, 0);
    EXPECT_TRUE(t->dirty());
    ASSERT_EQ(t->save(), "");
    EXPECT_FALSE(t->dirty());
    EXPECT_FALSE(std::filesystem::exists(file_ + ".tmp"));
  }

  ShapingConfig config_;
  std::string file_;
  uint64_t now_ = kStart;
  double rate_ = 0;
};

TEST_F(ShapingStateFileTest, AMissingFileIsAnEmptyState) {
  auto t = make();
  EXPECT_EQ(t->load(), "");
  EXPECT_TRUE(t->report().empty());
}

TEST_F(ShapingStateFileTest, NoStateFileKeepsStateInMemoryOnly) {
  config_.state_file = "";
  auto t = make();
  t->onReply(kSource, "yahoo", ReplyClass::kBlock, "554 5.7.1 blocked");
  EXPECT_EQ(t->save(), "");
  EXPECT_EQ(t->load(), "");
  EXPECT_FALSE(std::filesystem::exists(file_));
}

TEST_F(ShapingStateFileTest, ARestartKeepsSuspensionRateAndTodaysUsage) {
  saveShapedState();
  auto t = make();  // the same clock: a restart within the second
  ASSERT_EQ(t->load(), "");
  ShapingTable::Admission a = t->admit(kSource, "yahoo");
  EXPECT_EQ(a.verdict, ShapingTable::Verdict::kSuspended);
  EXPECT_NE(a.reason.find("554 5.7.9 Message not accepted for policy reasons"), std::string::npos) << a.reason;
  EXPECT_DOUBLE_EQ(t->rate(kSource, "gmail"), rate_);
  // 4 of today's 10 were used before the restart.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t->admit(kSource, "outlook").verdict, ShapingTable::Verdict::kGo);
  EXPECT_EQ(t->admit(kSource, "outlook").verdict, ShapingTable::Verdict::kWarmupFull);
  std::vector<SiteReport> r = t->report();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].site, "yahoo");
  EXPECT_EQ(r[0].blocks, 1u);
  EXPECT_EQ(r[1].site, "gmail");
  EXPECT_EQ(r[1].throttles, 1u);
  EXPECT_DOUBLE_EQ(r[1].connection_share, 0.85);
  // The throttle goes on recovering on the wall clock, as it would have without the restart.
  now_ += 3'600'000;
  EXPECT_EQ(t->rate(kSource, "gmail"), 0);
}

TEST_F(ShapingStateFileTest, EndedSuspensionsAndYesterdaysUsageAreDropped) {
  saveShapedState();
  now_ = 20'793 * kDayMs + 60'000;  // the next UTC day, after the hour's suspension
  auto t = make();
  ASSERT_EQ(t->load(), "");
  EXPECT_EQ(t->admit(kSource, "yahoo").verdict, ShapingTable::Verdict::kGo);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(t->admit(kSource, "outlook").verdict, ShapingTable::Verdict::kGo);
  for (const SiteReport& r : t->report(true)) {
    EXPECT_FALSE(r.suspended) << r.site;
    EXPECT_EQ(r.warmup_used, 0u) << r.site;
  }
  // Saved again, the file keeps only what is still shaped: outlook's reservations are not usage.
  ASSERT_EQ(t->save(), "");
  std::string text = readFile(file_);
  EXPECT_EQ(text.find("yahoo"), std::string::npos) << text;
  EXPECT_EQ(text.find("outlook"), std::string::npos) << text;
}

TEST_F(ShapingStateFileTest, ASuspensionStillRunningAfterTheDayChangeIsKept) {
  saveShapedState();
  now_ += 1'800'000;
  auto t = make();
  ASSERT_EQ(t->load(), "");
  EXPECT_TRUE(t->suspended(kSource, "yahoo"));
}

void expectLoadError(const std::string& file, const std::string& text, const std::string& what) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  ShapingConfig c;
  c.state_file = file;
  ShapingTable t(c, [] { return kStart; });
  std::string err = t.load();
  EXPECT_NE(err.find(file), std::string::npos) << err;
  EXPECT_NE(err.find(what), std::string::npos) << err;
  EXPECT_TRUE(t.report(true).empty());
}

TEST_F(ShapingStateFileTest, AFileThatIsNotAStateFileIsAClearError) {
  expectLoadError(file_, "this is [[ not toml", "invalid TOML");
  expectLoadError(file_, std::string("version = 1\n\xff\xfe\n"), "invalid TOML");
  expectLoadError(file_, "", "version");
  expectLoadError(file_, "version = 2\n", "version");
  expectLoadError(file_, "version = 1\nsite = 3\n", "site");
  expectLoadError(file_, "version = 1\nsite = [1]\n[complete]\nsites = 1\n", "site 1");
  expectLoadError(file_, "version = 1\n[[site]]\nsource = \"a\"\n[complete]\nsites = 1\n",
                  "site 1: site: expected a string");
  expectLoadError(file_, "version = 1\n[[site]]\nsource = \"a\"\n", "cut short");
  expectLoadError(file_, "version = 1\n[complete]\nsites = 2\n", "cut short");
}

TEST_F(ShapingStateFileTest, AValueOfTheWrongTypeOrRangeNamesItsKey) {
  saveShapedState();
  std::string good = readFile(file_);
  auto replaceKey = [&good](const std::string& key, const std::string& value) {
    size_t at = good.find("\n" + key + " = ");
    if (at == std::string::npos) at = good.find(" " + key + " = ");
    EXPECT_NE(at, std::string::npos) << key << " in " << good;
    size_t start = good.find('=', at) + 2;
    size_t end = good.find('\n', start);
    return good.substr(0, start) + value + good.substr(end);
  };
  expectLoadError(file_, replaceKey("rate", "\"fast\""), "rate");
  expectLoadError(file_, replaceKey("rate", "-1.0"), "rate");
  expectLoadError(file_, replaceKey("rate", "nan"), "rate");
  expectLoadError(file_, replaceKey("connection_share", "0.0"), "connection_share");
  expectLoadError(file_, replaceKey("connection_share", "2.0"), "connection_share");
  expectLoadError(file_, replaceKey("suspended_until", "-5"), "suspended_until");
  expectLoadError(file_, replaceKey("warmup_used", "1.5"), "warmup_used");
  expectLoadError(file_, replaceKey("reason", "7"), "reason");
}

TEST_F(ShapingStateFileTest, AFileCutShortAnywhereIsAnErrorNeverACrash) {
  saveShapedState();
  std::string good = readFile(file_);
  for (size_t n = 0; n < good.size(); ++n) {
    std::ofstream(file_, std::ios::binary | std::ios::trunc) << good.substr(0, n);
    ShapingConfig c;
    c.state_file = file_;
    ShapingTable t(c, [this] { return now_; });
    std::string err = t.load();
    // Only the final newline may go.
    if (n + 1 < good.size()) {
      EXPECT_FALSE(err.empty()) << "prefix of " << n << " octets";
      EXPECT_TRUE(t.report(true).empty());
    } else {
      EXPECT_EQ(err, "");
      EXPECT_TRUE(t.suspended(kSource, "yahoo"));
    }
  }
}

TEST_F(ShapingStateFileTest, AFolderThatDoesNotExistIsASaveError) {
  config_.state_file = test::tempPath("no-such-folder") + "/shaping.state";
  auto t = make();
  t->onReply(kSource, "yahoo", ReplyClass::kBlock, "554 5.7.1 blocked");
  std::string err = t->save();
  EXPECT_NE(err.find("no-such-folder"), std::string::npos) << err;
  EXPECT_TRUE(t->dirty());
}

TEST_F(ShapingStateFileTest, AStateFileThatIsAFolderIsALoadError) {
  std::filesystem::create_directories(file_);
  auto t = make();
  std::string err = t->load();
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
  std::filesystem::remove(file_);
}

}  // namespace
}  // namespace lbmail::shaping
