// Tests for duration and size parsing.
#include "lbmail/core/units.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parseDuration("10ns"), Duration(10));
  EXPECT_EQ(parseDuration("100us"), Duration(100us));
  EXPECT_EQ(parseDuration("250ms"), Duration(250ms));
  EXPECT_EQ(parseDuration("5s"), Duration(5s));
  EXPECT_EQ(parseDuration("2m"), Duration(2min));
  EXPECT_EQ(parseDuration("3h"), Duration(3h));
  EXPECT_EQ(parseDuration("1d"), Duration(24h));
  EXPECT_EQ(parseDuration("0s"), Duration(0));
}

TEST(ParseDuration, AcceptsExactFractions) {
  EXPECT_EQ(parseDuration("1.5s"), Duration(1500ms));
  EXPECT_EQ(parseDuration("0.25ms"), Duration(250us));
}

TEST(ParseDuration, RejectsBadText) {
  for (const char* bad : {"", "5", "s", "5 s", " 5s", "5s ", "-5s", "+5s", "5sec", "5S", "1e3s", ".5s", "5.s",
                          "5ms5", "1.5ns", "99999999999d", "5..0s", "nan", "infs"}) {
    EXPECT_FALSE(parseDuration(bad).has_value()) << bad;
  }
}

TEST(ParseSize, AcceptsUnitsAndBareBytes) {
  EXPECT_EQ(parseSize("4096"), 4096u);
  EXPECT_EQ(parseSize("100B"), 100u);
  EXPECT_EQ(parseSize("16KiB"), 16u * 1024);
  EXPECT_EQ(parseSize("10MiB"), 10u * 1024 * 1024);
  EXPECT_EQ(parseSize("1GiB"), 1024ull * 1024 * 1024);
  EXPECT_EQ(parseSize("2TiB"), 2ull << 40);
  EXPECT_EQ(parseSize("64KB"), 64000u);
  EXPECT_EQ(parseSize("3MB"), 3000000u);
  EXPECT_EQ(parseSize("1.5KiB"), 1536u);
}

TEST(ParseSize, RejectsBadText) {
  for (const char* bad : {"", "KiB", "10 MiB", "10mib", "10Mi", "-1", "1.3B", "0.1KiB", "10MiB ", "99999999TB",
                          "1e6"}) {
    EXPECT_FALSE(parseSize(bad).has_value()) << bad;
  }
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(Duration(0)), "0s");
  EXPECT_EQ(formatDuration(5s), "5s");
  EXPECT_EQ(formatDuration(1500ms), "1500ms");
  EXPECT_EQ(formatDuration(2min), "2m");
  EXPECT_EQ(formatDuration(Duration(7)), "7ns");
  EXPECT_EQ(formatDuration(24h), "1d");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Duration d : {Duration(1), Duration(1500us), Duration(90s), Duration(36h)}) {
    EXPECT_EQ(parseDuration(formatDuration(d)), d);
  }
}

}  // namespace
}  // namespace lbmail
