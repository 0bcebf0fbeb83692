// Tests for src/gateway/feedback_intake.cc: which recipients the feedback listener takes and the
// events a message makes.
#include "feedback_intake.h"

#include <gtest/gtest.h>

#include <set>

namespace lbmail {
namespace {

constexpr uint64_t kNow = 1'780'000'000'000;

using feedback::TokenPurpose;

class FeedbackIntakeTest : public ::testing::Test {
 protected:
  FeedbackIntakeTest() {
    settings_.keys = keys_;
    settings_.bounce_domains = domains_;
    settings_.feedback_addresses = addresses_;
    settings_.max_age_days = 30;
  }

  std::string token(uint64_t recipient, TokenPurpose purpose = TokenPurpose::kBounce, uint16_t day = 0) {
    feedback::TokenFields f;
    f.purpose = purpose;
    f.campaign = 12;
    f.recipient = recipient;
    f.attempt = purpose == TokenPurpose::kBounce ? 3 : 0;
    f.day = day != 0 ? day : feedback::dayOf(kNow);
    return feedback::mintToken(keys_[0], f);
  }
  FeedbackIntake intake() {
    return FeedbackIntake(settings_, [this](const FeedbackTokenKey& k) { return used_.count(k) > 0; });
  }

  std::vector<feedback::FeedbackKey> keys_{feedback::FeedbackKey::fromSecret(std::string(32, 'k'), 1)};
  std::vector<std::string> domains_{"bounce.example.com"};
  std::vector<std::string> addresses_{"fbl@example.com"};
  FeedbackIntakeSettings settings_;
  std::set<FeedbackTokenKey> used_;
};

std::string dsn(std::string_view status) {
  return "From: MAILER-DAEMON@mx.example.net\r\nTo: bounce@bounce.example.com\r\nSubject: Undelivered\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
         "--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver it.\r\n"
         "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
         "Final-Recipient: rfc822; nouser@example.net\r\nAction: failed\r\nStatus: " +
         std::string(status) + "\r\nDiagnostic-Code: smtp; 550 " + std::string(status) + " unknown user\r\n\r\n--B--\r\n";
}

std::string arf(std::string_view return_path) {
  return "From: fbl@isp.example\r\nTo: fbl@example.com\r\nSubject: FW: report\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=feedback-report; boundary=\"A\"\r\n\r\n"
         "--A\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n"
         "--A\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Test/1.0\r\nVersion: 1\r\n\r\n"
         "--A\r\nContent-Type: text/rfc822-headers\r\n\r\nReturn-Path: <" +
         std::string(return_path) + ">\r\nFrom: shop@example.com\r\nTo: someone@isp.example\r\nSubject: Offer\r\n\r\n--A--\r\n";
}

TEST_F(FeedbackIntakeTest, AValidBounceTokenIsTakenAndABounceMakesAHardBounce) {
  FeedbackIntake in = intake();
  auto d = in.recipient("<bounce+" + token(99) + "@bounce.example.com>", kNow);
  EXPECT_EQ(d.code, 250) << d.text;
  auto r = in.message(dsn("5.1.1"), kNow);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, proto::FeedbackKind::kHardBounce);
  EXPECT_EQ(r.events[0].campaign, 12u);
  EXPECT_EQ(r.events[0].recipient, 99u);
  EXPECT_EQ(r.events[0].attempt, 3);
  EXPECT_EQ(r.events[0].status, "5.1.1");
  EXPECT_EQ(r.events[0].source, "dsn");
  EXPECT_EQ(r.events[0].at_ms, kNow);
}

TEST_F(FeedbackIntakeTest, ATransientBounceIsSoft) {
  FeedbackIntake in = intake();
  ASSERT_EQ(in.recipient("bounce+" + token(5) + "@bounce.example.com", kNow).code, 250);
  auto r = in.message(dsn("4.2.2"), kNow);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, proto::FeedbackKind::kSoftBounce);
}

TEST_F(FeedbackIntakeTest, ForgedMalformedAndExpiredTokensAreRefusedAtRcpt) {
  FeedbackIntake in = intake();
  std::string t = token(99);
  t[5] = t[5] == 'a' ? 'b' : 'a';
  auto forged = in.recipient("bounce+" + t + "@bounce.example.com", kNow);
  EXPECT_EQ(forged.code, 550);
  EXPECT_EQ(forged.enhanced, "5.7.1");
  EXPECT_EQ(forged.refusal, "forged");
  EXPECT_EQ(in.recipient("bounce+short@bounce.example.com", kNow).refusal, "malformed");
  auto old = in.recipient("bounce+" + token(99, TokenPurpose::kBounce, feedback::dayOf(kNow) - 40) + "@bounce.example.com", kNow);
  EXPECT_EQ(old.refusal, "expired");
  EXPECT_TRUE(in.message(dsn("5.1.1"), kNow).events.empty());
}

TEST_F(FeedbackIntakeTest, UnknownAddressesAreRefusedWith511) {
  FeedbackIntake in = intake();
  auto d = in.recipient("postmaster@example.com", kNow);
  EXPECT_EQ(d.code, 550);
  EXPECT_EQ(d.enhanced, "5.1.1");
  EXPECT_EQ(d.refusal, "unknown_address");
  // A valid token at a domain that is not a bounce domain is not ours either.
  EXPECT_EQ(in.recipient("bounce+" + token(1) + "@other.example", kNow).refusal, "unknown_address");
}

TEST_F(FeedbackIntakeTest, ATokenWithAFinalEventIsAReplay) {
  used_.insert({12, 99, 3});
  FeedbackIntake in = intake();
  auto d = in.recipient("bounce+" + token(99) + "@bounce.example.com", kNow);
  EXPECT_EQ(d.code, 550);
  EXPECT_EQ(d.refusal, "replay");
}

TEST_F(FeedbackIntakeTest, AnUnsubscribeTokenByMailIsAnUnsubscribe) {
  FeedbackIntake in = intake();
  ASSERT_EQ(in.recipient("bounce+" + token(8, TokenPurpose::kUnsubscribe) + "@bounce.example.com", kNow).code, 250);
  auto r = in.message("Subject: unsubscribe\r\n\r\n", kNow);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, proto::FeedbackKind::kUnsubscribe);
  EXPECT_EQ(r.events[0].recipient, 8u);
  EXPECT_EQ(r.events[0].attempt, 0);
  EXPECT_EQ(r.events[0].source, "mailto");
}

// Unsubscribe links never expire, by mail as at the HTTP endpoint: a mailto: List-Unsubscribe
// from a message older than token_max_age still unsubscribes (a bounce token that old does not).
TEST_F(FeedbackIntakeTest, AnOldUnsubscribeTokenByMailStillUnsubscribes) {
  FeedbackIntake in = intake();
  uint16_t old = static_cast<uint16_t>(feedback::dayOf(kNow) - 200);
  EXPECT_EQ(in.recipient("bounce+" + token(9, TokenPurpose::kBounce, old) + "@bounce.example.com", kNow).refusal, "expired");
  ASSERT_EQ(in.recipient("bounce+" + token(9, TokenPurpose::kUnsubscribe, old) + "@bounce.example.com", kNow).code, 250);
  auto r = in.message("Subject: unsubscribe\r\n\r\n", kNow);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, proto::FeedbackKind::kUnsubscribe);
}

TEST_F(FeedbackIntakeTest, AnArfAtAFeedbackAddressIsAComplaintForItsOriginalsToken) {
  FeedbackIntake in = intake();
  ASSERT_EQ(in.recipient("FBL@example.com", kNow).code, 250);
  auto r = in.message(arf("bounce+" + token(77) + "@bounce.example.com"), kNow);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, proto::FeedbackKind::kComplaint);
  EXPECT_EQ(r.events[0].recipient, 77u);
  EXPECT_EQ(r.events[0].source, "arf");
  EXPECT_EQ(r.events[0].detail, "abuse");
}

TEST_F(FeedbackIntakeTest, AnArfWithNoValidTokenMakesNoEvent) {
  FeedbackIntake in = intake();
  ASSERT_EQ(in.recipient("fbl@example.com", kNow).code, 250);
  std::string t = token(77);
  t[0] = t[0] == 'a' ? 'b' : 'a';
  auto r = in.message(arf("bounce+" + t + "@bounce.example.com"), kNow);
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.unattributed);
}

TEST_F(FeedbackIntakeTest, AMessageWithNoVerdictMakesNoEventAndResetForgetsRecipients) {
  FeedbackIntake in = intake();
  ASSERT_EQ(in.recipient("bounce+" + token(3) + "@bounce.example.com", kNow).code, 250);
  EXPECT_TRUE(in.message("Subject: I am on holiday\r\n\r\nBack next week.\r\n", kNow).events.empty());
  in.reset();
  EXPECT_TRUE(in.message(dsn("5.1.1"), kNow).events.empty());
}

}  // namespace
}  // namespace lbmail
