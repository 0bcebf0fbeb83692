// Tests for src/proto/refusal_log.cc: one line per interval per host, the held-back count, and
// the bound on the addresses remembered.
#include "lbmail/proto/refusal_log.h"

#include <gtest/gtest.h>

#include <string>

namespace lbmail::proto {
namespace {

using namespace std::chrono_literals;

TEST(RefusalLog, OneLinePerIntervalPerHostSayingHowManyWereHeldBack) {
  RefusalLog log(10s);
  uint64_t unlogged = 99;
  EXPECT_TRUE(log.admit("192.0.2.1", 1000, unlogged));
  EXPECT_EQ(unlogged, 0u);
  for (uint64_t t = 1001; t < 11000; t += 1000) EXPECT_FALSE(log.admit("192.0.2.1", t, unlogged));
  EXPECT_TRUE(log.admit("192.0.2.1", 11000, unlogged));  // a full interval after the last line
  EXPECT_EQ(unlogged, 10u);
  EXPECT_FALSE(log.admit("192.0.2.1", 11001, unlogged));
  EXPECT_TRUE(log.admit("192.0.2.1", 30000, unlogged));
  EXPECT_EQ(unlogged, 1u);
}

TEST(RefusalLog, HostsAreCountedApart) {
  RefusalLog log(10s);
  uint64_t unlogged = 0;
  EXPECT_TRUE(log.admit("192.0.2.1", 0, unlogged));
  EXPECT_TRUE(log.admit("192.0.2.2", 1, unlogged));
  EXPECT_TRUE(log.admit("2001:db8::1", 2, unlogged));
  EXPECT_FALSE(log.admit("192.0.2.1", 3, unlogged));
  EXPECT_FALSE(log.admit("2001:db8::1", 4, unlogged));
  EXPECT_TRUE(log.admit("192.0.2.2", 10001, unlogged));
  EXPECT_EQ(unlogged, 0u);
  EXPECT_EQ(log.addressCount(), 3u);
}

TEST(RefusalLog, MemoryIsBoundedByForgettingTheHostRefusedLeastRecently) {
  RefusalLog log(10s, 3);
  uint64_t unlogged = 0;
  EXPECT_TRUE(log.admit("10.0.0.1", 0, unlogged));
  EXPECT_TRUE(log.admit("10.0.0.2", 0, unlogged));
  EXPECT_TRUE(log.admit("10.0.0.3", 0, unlogged));
  EXPECT_FALSE(log.admit("10.0.0.1", 1, unlogged));  // 10.0.0.2 is now the stalest
  EXPECT_TRUE(log.admit("10.0.0.4", 2, unlogged));
  EXPECT_EQ(log.addressCount(), 3u);
  EXPECT_FALSE(log.admit("10.0.0.1", 3, unlogged));  // remembered
  EXPECT_FALSE(log.admit("10.0.0.3", 3, unlogged));  // remembered
  EXPECT_TRUE(log.admit("10.0.0.2", 3, unlogged));   // forgotten: logged again at once
  // Thousands of addresses still keep only the bound.
  for (int i = 0; i < 5000; ++i) log.admit("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), 4, unlogged);
  EXPECT_EQ(log.addressCount(), 3u);
}

}  // namespace
}  // namespace lbmail::proto
