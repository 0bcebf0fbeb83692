// PolicyCache: entries until their expiry, the soonest to expire evicted first.
#include "policy_cache.h"

#include <gtest/gtest.h>

namespace lbmail::mta_sts {
namespace {

using std::chrono::seconds;
const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);

CachedPolicy entry(const std::string& id, seconds ttl) {
  auto p = std::make_shared<const MtaStsPolicy>(MtaStsPolicy{MtaStsPolicy::Mode::kEnforce, {"mx.test"}, ttl});
  return CachedPolicy{id, p, t0 + ttl};
}

TEST(PolicyCache, AnEntryLastsUntilItExpires) {
  PolicyCache cache(10);
  cache.store("a.test", entry("1", seconds(60)), t0);
  ASSERT_NE(cache.find("a.test", t0 + seconds(59)), nullptr);
  EXPECT_EQ(cache.find("a.test", t0 + seconds(59))->id, "1");
  EXPECT_EQ(cache.find("a.test", t0 + seconds(60)), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(PolicyCache, StoringAgainReplaces) {
  PolicyCache cache(10);
  cache.store("a.test", entry("1", seconds(60)), t0);
  cache.store("a.test", entry("2", seconds(30)), t0);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("a.test", t0)->id, "2");
  EXPECT_EQ(cache.find("a.test", t0 + seconds(45)), nullptr);
}

TEST(PolicyCache, TheSoonestToExpireMakesRoom) {
  PolicyCache cache(2);
  cache.store("long.test", entry("1", seconds(600)), t0);
  cache.store("short.test", entry("2", seconds(60)), t0);
  cache.store("new.test", entry("3", seconds(300)), t0);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("short.test", t0), nullptr);
  EXPECT_NE(cache.find("long.test", t0), nullptr);
  EXPECT_NE(cache.find("new.test", t0), nullptr);
}

TEST(PolicyCache, NothingExpiredOrUnwantedIsKept) {
  PolicyCache cache(2);
  cache.store("zero.test", entry("1", seconds(0)), t0);
  EXPECT_EQ(cache.size(), 0u);
  PolicyCache none(0);
  none.store("a.test", entry("1", seconds(60)), t0);
  EXPECT_EQ(none.find("a.test", t0), nullptr);
}

}  // namespace
}  // namespace lbmail::mta_sts
