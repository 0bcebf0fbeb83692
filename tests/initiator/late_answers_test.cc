// Tests for src/initiator/late_answers.cc: a retired attempt is found once by its request id,
// a recipient is settled once a delivery is recorded while another attempt may answer, and a
// handed-over answer is judged against the ledger's row (issue 16, defects 1 and 2).
#include "late_answers.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

constexpr double kNow = 1'700'000'000.0;

InFlightRequest attempt(uint64_t request_id, uint64_t recipient) {
  InFlightRequest f;
  f.request_id = request_id;
  f.r.id = recipient;
  f.r.email = "ann@d.test";
  f.sent_ms = 100;
  return f;
}

StrayResult result(uint64_t request_id, proto::Outcome outcome) {
  StrayResult s;
  s.request_id = request_id;
  s.outcome = outcome;
  s.smtp_code = outcome == proto::Outcome::kDelivered ? 250 : 550;
  s.total_us = 2'500'000;
  return s;
}

LedgerRow row(std::string state, uint64_t request_id) {
  LedgerRow r;
  r.recipient.id = 7;
  r.recipient.email = "ann@d.test";
  r.recipient.domain = "d.test";
  r.recipient.attributes = "{}";
  r.recipient.attempts = 1;
  r.has_state = !state.empty();
  r.state = std::move(state);
  r.request_id = request_id;
  return r;
}

StrayVerdict::Kind judge(const StrayResult& s, std::optional<LedgerRow> r, bool settled = false) {
  CampaignSettings campaign;
  campaign.materials.emplace_back().name = "standard";
  return judgeStray(s, std::move(r), settled, RetryPolicy{}, campaign, {}, kNow).kind;
}

TEST(LateAnswers, ARetiredAttemptIsFoundOnceByItsOwnRequestId) {
  LateAnswers late;
  late.retire(attempt(0x100000007, 7));
  EXPECT_FALSE(late.takeRetired(0x200000007));  // another attempt of the same recipient
  std::optional<InFlightRequest> f = late.takeRetired(0x100000007);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->r.id, 7u);
  EXPECT_EQ(f->sent_ms, 100u);
  EXPECT_FALSE(late.takeRetired(0x100000007));
}

TEST(LateAnswers, ADeliveryIsSettledOnlyWhileAnotherAttemptMayStillAnswer) {
  LateAnswers late;
  late.delivered(7);
  EXPECT_FALSE(late.settled(7));  // nothing else out: an ordinary delivery
  late.retire(attempt(0x100000007, 7));
  late.delivered(7);
  EXPECT_TRUE(late.settled(7));
}

TEST(LateAnswersJudge, AnAnswerTheRowAlreadyHasIsNoNews) {
  EXPECT_EQ(judge(result(5, proto::Outcome::kDelivered), row("delivered", 5)), StrayVerdict::Kind::kNothing);
  EXPECT_EQ(judge(result(5, proto::Outcome::kDelivered), std::nullopt), StrayVerdict::Kind::kNothing);
}

TEST(LateAnswersJudge, ADeliveryOfADeliveredRecipientIsARepeat) {
  EXPECT_EQ(judge(result(5, proto::Outcome::kDelivered), row("delivered", 6)), StrayVerdict::Kind::kRepeat);
  EXPECT_EQ(judge(result(5, proto::Outcome::kDelivered), row("", 0), true), StrayVerdict::Kind::kRepeat);
}

TEST(LateAnswersJudge, ADeliveryTheRowLacksIsRecordedWithTheGatewaysTiming) {
  CampaignSettings campaign;
  campaign.materials.emplace_back().name = "standard";
  StrayVerdict v = judgeStray(result(5, proto::Outcome::kDelivered), row("deferred", 0), false, RetryPolicy{},
                              campaign, {}, kNow);
  EXPECT_EQ(v.kind, StrayVerdict::Kind::kRecord);
  EXPECT_EQ(v.decision.state, RecipientState::kDelivered);
  EXPECT_EQ(v.decision.attempts, 2u);
  EXPECT_DOUBLE_EQ(v.decision.delivery_ms, 2500.0);
  EXPECT_EQ(judge(result(5, proto::Outcome::kDelivered), row("", 0)), StrayVerdict::Kind::kRecord);
}

// A handed-over delivery keeps the TLS its RESULT named, for the accounting file.
TEST(LateAnswersJudge, AStrayDeliveryKeepsItsTls) {
  CampaignSettings campaign;
  campaign.materials.emplace_back().name = "standard";
  proto::ResultFrame frame;
  frame.request_id = 5;
  frame.has_tls = true;
  frame.tls_version = "TLSv1.2";
  frame.tls_verified = true;
  StrayResult s = StrayResult::of(0, frame);
  frame.tls_version = "changed";  // the stray keeps its own copy
  StrayVerdict v = judgeStray(s, row("deferred", 0), false, RetryPolicy{}, campaign, {}, kNow);
  EXPECT_EQ(v.kind, StrayVerdict::Kind::kRecord);
  EXPECT_EQ(v.decision.tls, "TLSv1.2");
  EXPECT_TRUE(v.decision.tls_verified);
}

// Anything but a delivery leaves the recipient to this run: the row was read off the loop, and
// a deferral or bounce written after an attempt of this run delivered would send it again.
TEST(LateAnswersJudge, AnythingButADeliveryIsNoNews) {
  for (auto outcome : {proto::Outcome::kBounced, proto::Outcome::kDeferred, proto::Outcome::kFailed}) {
    EXPECT_EQ(judge(result(5, outcome), row("", 0)), StrayVerdict::Kind::kNothing);
    EXPECT_EQ(judge(result(5, outcome), row("deferred", 0)), StrayVerdict::Kind::kNothing);
    EXPECT_EQ(judge(result(5, outcome), row("", 0), true), StrayVerdict::Kind::kNothing);
  }
}

}  // namespace
}  // namespace lbmail
