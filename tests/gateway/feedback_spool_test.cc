// Tests for src/gateway/feedback_spool.cc and feedback_spool_format.cc: events survive a reload,
// acknowledgements remove them, a torn or damaged tail is dropped and never a crash, the cap
// refuses, rewriting keeps what the replay check needs.
#include "feedback_spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "feedback_spool_format.h"
#include "temp_path.h"

namespace lbmail {
namespace {

constexpr uint64_t kNow = 1'780'000'000'000;

std::string fresh(const std::string& name) {
  std::string path = test::tempPath(name);
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".damaged");
  return path;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

FeedbackEvent event(uint64_t recipient, proto::FeedbackKind kind = proto::FeedbackKind::kHardBounce) {
  FeedbackEvent e;
  e.kind = kind;
  e.campaign = 7;
  e.recipient = recipient;
  e.attempt = 2;
  e.at_ms = kNow;
  e.status = "5.1.1";
  e.source = "dsn";
  e.detail = "smtp; 550 5.1.1 unknown user";
  return e;
}

TEST(FeedbackSpool, EventsSurviveAReloadWithTheirFields) {
  std::string path = fresh("spool-reload");
  uint64_t first = 0;
  {
    FeedbackSpool spool(nullptr, path, {});
    ASSERT_EQ(spool.open(kNow), "");
    first = *spool.add(event(41));
    EXPECT_EQ(*spool.add(event(42, proto::FeedbackKind::kSoftBounce)), first + 1);
  }
  FeedbackSpool spool(nullptr, path, {});
  ASSERT_EQ(spool.open(kNow), "");
  ASSERT_EQ(spool.unacknowledged().size(), 2u);
  const FeedbackEvent& e = spool.unacknowledged().at(first);
  EXPECT_EQ(e.campaign, 7u);
  EXPECT_EQ(e.recipient, 41u);
  EXPECT_EQ(e.attempt, 2);
  EXPECT_EQ(e.at_ms, kNow);
  EXPECT_EQ(e.status, "5.1.1");
  EXPECT_EQ(e.source, "dsn");
  EXPECT_EQ(e.detail, "smtp; 550 5.1.1 unknown user");
  EXPECT_EQ(spool.unacknowledged().at(first + 1).kind, proto::FeedbackKind::kSoftBounce);
  EXPECT_TRUE(spool.used({7, 41, 2}));   // a hard bounce is final
  EXPECT_FALSE(spool.used({7, 42, 2}));  // a soft one is not
  EXPECT_EQ(*spool.add(event(43)), first + 2);  // numbering goes on
}

// Initiators keep events by (gateway, sequence): a new or repaired spool never reuses one.
TEST(FeedbackSpool, ANewOrRepairedSpoolStartsAboveEarlierSequences) {
  std::string path = fresh("spool-sequence");
  uint64_t before = 0;
  {
    FeedbackSpool spool(nullptr, path, {});
    ASSERT_EQ(spool.open(kNow), "");
    before = *spool.add(event(1));
    EXPECT_GE(before, kNow * 1000);
  }
  std::filesystem::remove(path);  // lost, or moved away by a person
  FeedbackSpool spool(nullptr, path, {});
  ASSERT_EQ(spool.open(kNow + 1), "");
  EXPECT_GT(*spool.add(event(2)), before);
}

TEST(FeedbackSpool, AcknowledgedEventsDoNotComeBack) {
  std::string path = fresh("spool-ack");
  {
    FeedbackSpool spool(nullptr, path, {});
    ASSERT_EQ(spool.open(kNow), "");
    for (uint64_t r = 1; r <= 3; ++r) ASSERT_TRUE(spool.add(event(r)));
    uint64_t base = spool.unacknowledged().begin()->first;
    spool.acknowledge({base, base + 2}, kNow);
    EXPECT_EQ(spool.unacknowledged().size(), 1u);
  }
  FeedbackSpool spool(nullptr, path, {});
  ASSERT_EQ(spool.open(kNow), "");
  ASSERT_EQ(spool.unacknowledged().size(), 1u);
  EXPECT_EQ(spool.unacknowledged().begin()->second.recipient, 2u);
  EXPECT_TRUE(spool.used({7, 1, 2}));  // acknowledged, still remembered for the replay check
}

TEST(FeedbackSpool, ATornLastRecordIsDroppedAndTheRestKept) {
  std::string path = fresh("spool-torn");
  {
    FeedbackSpool spool(nullptr, path, {});
    ASSERT_EQ(spool.open(kNow), "");
    ASSERT_TRUE(spool.add(event(1)));
    ASSERT_TRUE(spool.add(event(2)));
  }
  // A kill -9 in the middle of write(2): the last record is cut anywhere.
  std::string whole = readFile(path);
  for (size_t cut = 1; cut < 30; cut += 4) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() - cut);
    FeedbackSpool spool(nullptr, path, {});
    ASSERT_EQ(spool.open(kNow), "") << cut;
    ASSERT_EQ(spool.unacknowledged().size(), 1u) << cut;
    EXPECT_EQ(spool.unacknowledged().begin()->second.recipient, 1u);
    EXPECT_TRUE(std::filesystem::exists(path + ".damaged"));
    // Appends after the repair are read back: nothing sits behind the torn bytes.
    ASSERT_TRUE(spool.add(event(3)));
    FeedbackSpool again(nullptr, path, {});
    ASSERT_EQ(again.open(kNow), "");
    EXPECT_EQ(again.unacknowledged().size(), 2u) << cut;
  }
}

TEST(FeedbackSpool, AFlippedByteEndsWhatIsReadNeverACrash) {
  std::string path = fresh("spool-flip");
  {
    FeedbackSpool spool(nullptr, path, {});
    ASSERT_EQ(spool.open(kNow), "");
    for (uint64_t r = 1; r <= 3; ++r) ASSERT_TRUE(spool.add(event(r)));
  }
  std::string whole = readFile(path);
  for (size_t at = kSpoolMagic.size(); at < whole.size(); ++at) {
    std::string damaged = whole;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    size_t read = 0;
    SpoolReadResult r = readSpoolRecords(damaged, [&](SpoolRecord&&) { ++read; });
    EXPECT_TRUE(r.damaged) << at;
    EXPECT_LT(read, 3u) << at;
  }
}

TEST(FeedbackSpool, AFileThatIsNoSpoolIsRefusedUntouched) {
  std::string path = fresh("spool-foreign");
  std::ofstream(path) << "some other file\n";
  FeedbackSpool spool(nullptr, path, {});
  std::string err = spool.open(kNow);
  EXPECT_NE(err.find("not a feedback spool"), std::string::npos) << err;
  EXPECT_EQ(readFile(path), "some other file\n");
}

TEST(FeedbackSpool, RefusesPastItsCap) {
  std::string path = fresh("spool-cap");
  FeedbackSpool::Limits limits;
  limits.max_unacknowledged = 2;
  FeedbackSpool spool(nullptr, path, limits);
  ASSERT_EQ(spool.open(kNow), "");
  ASSERT_TRUE(spool.add(event(1)));
  ASSERT_TRUE(spool.add(event(2)));
  auto third = spool.add(event(3));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error(), FeedbackSpool::AddError::kFull);
  spool.acknowledge({spool.unacknowledged().begin()->first}, kNow);
  EXPECT_TRUE(spool.add(event(3)));
}

TEST(FeedbackSpool, RewritesWhenMostlyAcknowledgedAndKeepsUsedTokens) {
  std::string path = fresh("spool-compact");
  FeedbackSpool::Limits limits;
  limits.compact_after = 8;
  limits.replay_window = std::chrono::hours(24);
  uint64_t last = 0;
  {
    FeedbackSpool spool(nullptr, path, limits);
    ASSERT_EQ(spool.open(kNow), "");
    std::vector<uint64_t> done;
    for (uint64_t r = 1; r <= 20; ++r) done.push_back(*spool.add(event(r)));
    uint64_t before = spool.fileBytes();
    FeedbackEvent old = event(99);
    old.at_ms = kNow - 3 * 86'400'000ull;  // past the replay window at the rewrite
    done.push_back(*spool.add(old));
    last = done.back();
    spool.acknowledge(done, kNow);
    EXPECT_EQ(spool.compactions(), 1u);
    EXPECT_LT(spool.fileBytes(), before);
    EXPECT_FALSE(spool.used({7, 99, 2}));
  }
  FeedbackSpool spool(nullptr, path, limits);
  ASSERT_EQ(spool.open(kNow), "");
  EXPECT_TRUE(spool.unacknowledged().empty());
  EXPECT_TRUE(spool.used({7, 20, 2}));
  EXPECT_EQ(*spool.add(event(21)), last + 1);  // sequences never go back
}

// A message's events go in all together or not at all: with room for one, a message making two
// is refused whole, so the sender's retry cannot add the first one twice.
TEST(FeedbackSpool, AMessagesEventsGoInTogetherOrNotAtAll) {
  std::string path = fresh("spool-batch");
  FeedbackSpool::Limits limits;
  limits.max_unacknowledged = 2;
  FeedbackSpool spool(nullptr, path, limits);
  ASSERT_EQ(spool.open(kNow), "");
  ASSERT_TRUE(spool.add(event(1)));
  uint64_t bytes = spool.fileBytes();
  std::vector<FeedbackEvent> two = {event(2), event(3)};
  auto refused = spool.add(std::move(two));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), FeedbackSpool::AddError::kFull);
  EXPECT_EQ(spool.unacknowledged().size(), 1u);
  EXPECT_EQ(spool.fileBytes(), bytes);
  spool.acknowledge({spool.unacknowledged().begin()->first}, kNow);
  std::vector<FeedbackEvent> again = {event(2), event(3)};
  auto stored = spool.add(std::move(again));
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[1], (*stored)[0] + 1);
  EXPECT_EQ(spool.unacknowledged().size(), 2u);
}

// An unsubscribe already recorded for (campaign, recipient), or a soft bounce for (campaign,
// recipient, attempt), adds nothing, even when the spool is full and after it was acknowledged,
// a reload and a rewrite; a full spool still refuses a new event.
TEST(FeedbackSpool, RepeatsAddNoEventAndAreRememberedAfterTheAcknowledgement) {
  std::string path = fresh("spool-repeat");
  FeedbackSpool::Limits limits;
  limits.max_unacknowledged = 2;
  limits.compact_after = 1;
  {
    FeedbackSpool spool(nullptr, path, limits);
    ASSERT_EQ(spool.open(kNow), "");
    FeedbackEvent unsubscribe = event(1, proto::FeedbackKind::kUnsubscribe);
    unsubscribe.source = "one-click";
    ASSERT_NE(*spool.add(unsubscribe), 0u);
    ASSERT_NE(*spool.add(event(2, proto::FeedbackKind::kSoftBounce)), 0u);
    for (int i = 0; i < 5; ++i) {
      unsubscribe.source = i % 2 ? "mailto" : "one-click";
      auto again = spool.add(unsubscribe);
      ASSERT_TRUE(again);  // full, but a repeat is no new event
      EXPECT_EQ(*again, 0u);
      EXPECT_EQ(*spool.add(event(2, proto::FeedbackKind::kSoftBounce)), 0u);
    }
    EXPECT_EQ(spool.unacknowledged().size(), 2u);
    EXPECT_FALSE(spool.add(event(3, proto::FeedbackKind::kSoftBounce)));  // new: the spool is full
    std::vector<uint64_t> all;
    for (const auto& [seq, e] : spool.unacknowledged()) all.push_back(seq);
    spool.acknowledge(all, kNow);
    EXPECT_EQ(spool.compactions(), 1u);
  }
  FeedbackSpool spool(nullptr, path, limits);
  ASSERT_EQ(spool.open(kNow), "");
  EXPECT_EQ(*spool.add(event(1, proto::FeedbackKind::kUnsubscribe)), 0u);
  EXPECT_EQ(*spool.add(event(2, proto::FeedbackKind::kSoftBounce)), 0u);
  FeedbackEvent next_attempt = event(2, proto::FeedbackKind::kSoftBounce);
  next_attempt.attempt = 3;
  EXPECT_NE(*spool.add(next_attempt), 0u);  // another attempt's soft bounce is new
  EXPECT_NE(*spool.add(event(1, proto::FeedbackKind::kSoftBounce)), 0u);  // and so is another kind
  EXPECT_EQ(spool.unacknowledged().size(), 2u);
}

}  // namespace
}  // namespace lbmail
