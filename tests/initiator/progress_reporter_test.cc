// The progress line and its ETA.
#include "progress_reporter.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

TEST(ProgressReporter, LineShowsTheBarCountsRateAndEta) {
  ProgressReporter::Snapshot s;
  s.total = 1000;
  s.sent = 600;
  s.delivered = 400;
  s.bounced = 50;
  s.failed = 50;
  s.deferred = 20;
  s.rate = 100;
  // Half the recipients are final: half the bar; 500 left at 100/s is 5 s.
  EXPECT_EQ(ProgressReporter::line(s),
            "[############............]  50.0% sent 600 delivered 400 deferred 20 bounced 50 failed 50  100/s  ETA 5s");
  ASSERT_TRUE(ProgressReporter::etaSeconds(s));
  EXPECT_DOUBLE_EQ(*ProgressReporter::etaSeconds(s), 5.0);
}

TEST(ProgressReporter, EtaNeedsARateAndLongOnesReadInMinutesAndHours) {
  ProgressReporter::Snapshot s;
  s.total = 1'000'000;
  EXPECT_FALSE(ProgressReporter::etaSeconds(s));
  EXPECT_NE(ProgressReporter::line(s).find("ETA -"), std::string::npos);
  s.rate = 100;
  EXPECT_NE(ProgressReporter::line(s).find("ETA 2h46m"), std::string::npos) << ProgressReporter::line(s);
  s.total = 10'000;
  EXPECT_NE(ProgressReporter::line(s).find("ETA 1m40s"), std::string::npos) << ProgressReporter::line(s);
  s.delivered = 10'000;
  EXPECT_NE(ProgressReporter::line(s).find("100.0%"), std::string::npos);
  EXPECT_DOUBLE_EQ(*ProgressReporter::etaSeconds(s), 0.0);
}

}  // namespace
}  // namespace lbmail
