// Tests of the TTL cache: expiry, replacement, and eviction when full.
#include "record_cache.h"

#include <gtest/gtest.h>

#include "dns_answer.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;

RecordSet expiringAt(TimePoint t, std::string reason = "") {
  RecordSet s;
  s.kind = RecordSet::Kind::kTemporary;
  s.reason = std::move(reason);
  s.expires = t;
  return s;
}

TEST(RecordCache, EntryLivesUntilItsExpiry) {
  TimePoint now = std::chrono::steady_clock::now();
  RecordCache cache(10);
  cache.store("a.test", kTypeA, expiringAt(now + 60s), now);
  ASSERT_NE(cache.find("a.test", kTypeA, now + 59s), nullptr);
  EXPECT_EQ(cache.find("a.test", kTypeAaaa, now), nullptr);  // another type is another question
  EXPECT_EQ(cache.find("a.test", kTypeA, now + 60s), nullptr);
  EXPECT_EQ(cache.size(), 0u);  // dropped when found expired
}

TEST(RecordCache, AnswerAlreadyExpiredIsNotKept) {
  TimePoint now = std::chrono::steady_clock::now();
  RecordCache cache(10);
  cache.store("a.test", kTypeA, expiringAt(now), now);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RecordCache, NewAnswerReplacesTheOld) {
  TimePoint now = std::chrono::steady_clock::now();
  RecordCache cache(10);
  cache.store("a.test", kTypeMx, expiringAt(now + 10s, "old"), now);
  cache.store("a.test", kTypeMx, expiringAt(now + 20s, "new"), now);
  EXPECT_EQ(cache.size(), 1u);
  const RecordSet* s = cache.find("a.test", kTypeMx, now + 15s);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->reason, "new");
}

TEST(RecordCache, WhenFullExpiredGoFirstThenTheSoonestToExpire) {
  TimePoint now = std::chrono::steady_clock::now();
  RecordCache cache(3);
  cache.store("short.test", kTypeA, expiringAt(now + 5s), now);
  cache.store("long.test", kTypeA, expiringAt(now + 500s), now);
  cache.store("mid.test", kTypeA, expiringAt(now + 50s), now);
  // Later, short.test has expired: it makes the room.
  cache.store("new1.test", kTypeA, expiringAt(now + 100s), now + 10s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("short.test", kTypeA, now), nullptr);
  // Nothing expired now: mid.test, the soonest to expire, makes the room.
  cache.store("new2.test", kTypeA, expiringAt(now + 100s), now + 10s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("mid.test", kTypeA, now + 10s), nullptr);
  EXPECT_NE(cache.find("long.test", kTypeA, now + 10s), nullptr);
  EXPECT_NE(cache.find("new1.test", kTypeA, now + 10s), nullptr);
  EXPECT_NE(cache.find("new2.test", kTypeA, now + 10s), nullptr);
}

}  // namespace
}  // namespace lbmail::dns
