// Tests for src/initiator/feedback_rates.cc: the rates' definitions, the levels at the
// configured thresholds, one warning per upward crossing, and the /status member.
#include "feedback_rates.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail {
namespace {

class FeedbackRatesTest : public ::testing::Test {
 protected:
  FeedbackRatesTest() {
    settings_.bounce_warn = 0.1;
    settings_.bounce_alarm = 0.2;
    settings_.complaint_warn = 0.1;
    settings_.complaint_alarm = 0.5;
  }
  // Warnings of the rate for the scope.
  size_t warnings(const std::string& scope, const std::string& rate = "bounce") const {
    size_t n = 0;
    for (const std::string& l : lines_) {
      n += l.find("campaign.feedback_rate") != std::string::npos && l.find("scope=" + scope) != std::string::npos &&
           l.find("rate=" + rate) != std::string::npos;
    }
    return n;
  }

  InitiatorFeedback settings_;
  MetricsRegistry metrics_;
  std::vector<std::string> lines_;
  Logger log_{[this](std::string_view line) { lines_.emplace_back(line); },
              [] { return std::chrono::system_clock::time_point(); }};
};

TEST_F(FeedbackRatesTest, RatesLevelsAndOneWarningPerCrossing) {
  FeedbackRates rates(settings_, {"gw1", "gw2"}, metrics_, log_);
  rates.start({8, 0, 0, 0});  // earlier runs: 8 delivered
  for (int i = 0; i < 2; ++i) rates.outcome(RecipientState::kDelivered, "gw1", "a.test");
  EXPECT_EQ(rates.campaign().sent(), 10u);
  EXPECT_EQ(rates.bounceLevel(rates.campaign()), RateLevel::kOk);
  // A hard-bounce report of this campaign: 1/10 = warn; a bounced outcome: 2/11 still warn.
  rates.event(proto::FeedbackKind::kHardBounce, true, "gw1", "a.test");
  EXPECT_DOUBLE_EQ(rates.campaign().bounceRate(), 0.1);
  EXPECT_EQ(rates.bounceLevel(rates.campaign()), RateLevel::kWarn);
  rates.outcome(RecipientState::kBounced, "gw2", "b.test");
  EXPECT_EQ(warnings("campaign"), 1u);
  EXPECT_EQ(warnings("gateway name=gw2"), 1u);  // 1 of 1
  // Another campaign's report counts as an event, not in this campaign's rates.
  rates.event(proto::FeedbackKind::kHardBounce, false, "gw1", "a.test");
  EXPECT_EQ(rates.events(proto::FeedbackKind::kHardBounce), 2u);
  EXPECT_EQ(rates.campaign().hard_bounces, 1u);
  rates.event(proto::FeedbackKind::kHardBounce, true, "", "");
  EXPECT_EQ(rates.bounceLevel(rates.campaign()), RateLevel::kAlarm);  // 3/11
  EXPECT_EQ(warnings("campaign"), 2u);
  // Back under the warning level, then over it again: warned again.
  for (int i = 0; i < 30; ++i) rates.outcome(RecipientState::kDelivered, "gw1", "a.test");
  EXPECT_EQ(rates.bounceLevel(rates.campaign()), RateLevel::kOk);
  for (int i = 0; i < 3; ++i) rates.event(proto::FeedbackKind::kHardBounce, true, "", "");
  EXPECT_EQ(rates.bounceLevel(rates.campaign()), RateLevel::kWarn);
  EXPECT_EQ(warnings("campaign"), 3u);
  EXPECT_EQ(warnings("gateway name=gw2"), 1u);
  EXPECT_EQ(warnings("campaign", "complaint"), 0u);
  // Complaints per delivery, attributed to the gateway that sent the recipient.
  rates.event(proto::FeedbackKind::kComplaint, true, "gw1", "a.test");
  EXPECT_DOUBLE_EQ(rates.campaign().complaintRate(), 1.0 / 40);
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  rates.writeStatus(w);
  w.endObject();
  EXPECT_NE(out.find(R"("events":{"hard_bounce":6,"soft_bounce":0,"complaint":1,"unsubscribe":0})"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"({"gateway":"gw1","sent":32,"delivered":32,"bounced":0,"hard_bounces":1,"complaints":1,)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"({"domain":"a.test","sent":32,)"), std::string::npos) << out;
  EXPECT_NE(metrics_.renderPrometheus().find("lbmail_campaign_feedback_events_total{kind=\"hard_bounce\"} 6"),
            std::string::npos);
}

}  // namespace
}  // namespace lbmail
