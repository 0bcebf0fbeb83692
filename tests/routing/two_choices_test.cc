// Tests for src/routing/two_choices.h: two distinct picks, each pair equally likely.
#include "two_choices.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

namespace lbmail {
namespace {

TEST(TwoChoices, EveryOrderedPairOnceOverAllDraws) {
  for (size_t n = 2; n <= 6; ++n) {
    std::map<std::pair<size_t, size_t>, int> seen;
    for (uint64_t r1 = 0; r1 < n; ++r1) {
      for (uint64_t r2 = 0; r2 + 1 < n; ++r2) {
        TwoChoices c = twoDistinct(n, r1, r2);
        ASSERT_NE(c.first, c.second) << n;
        ASSERT_LT(c.first, n);
        ASSERT_LT(c.second, n);
        ++seen[{c.first, c.second}];
      }
    }
    EXPECT_EQ(seen.size(), n * (n - 1)) << n;
    for (const auto& [pair, count] : seen) EXPECT_EQ(count, 1) << n;
  }
}

}  // namespace
}  // namespace lbmail
