// Tests for src/initiator/outcome_policy.cc: every RESULT outcome and REJECT reason, timeouts,
// giving up at max_attempts and max_age, the retry schedule's indexing, the requeue limit, and
// bounces by policy (RFC 3463 x.7.x): slow samples, rerouted until every gateway refused; and
// RESULT's reply class (mailbox, block, throttle, the rest) with and without it.
#include "outcome_policy.h"

#include <gtest/gtest.h>

#include "initiator_config.h"
#include "lbmail/shaping/reply_class.h"

namespace lbmail {
namespace {

using Kind = OutcomeDecision::Kind;
using Sample = OutcomeDecision::Sample;
constexpr double kNow = 1'000'000;

RetryPolicy policy() {
  RetryPolicy p;
  p.max_attempts = 5;
  p.max_age_s = 3600;
  p.retry_schedule_s = {60, 300, 900};
  p.slow_sample_ms = 30000;
  p.result_timeout_ms = 600000;
  p.max_requeues = 8;
  p.gateways = 3;
  return p;
}

proto::ResultFrame result(proto::Outcome o) {
  proto::ResultFrame r;
  r.outcome = o;
  r.smtp_code = 250;
  r.enhanced_code = "2.0.0";
  r.reply = "the reply";
  return r;
}

proto::RejectFrame reject(proto::RejectReason reason) {
  proto::RejectFrame r;
  r.reason = reason;
  r.text = "why";
  return r;
}

TEST(OutcomePolicy, DeliveredIsFinalAndAFastSample) {
  OutcomeDecision d = decideResult(result(proto::Outcome::kDelivered), 120, {2, kNow - 10, 1}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kDelivered);
  EXPECT_EQ(d.attempts, 3u);
  EXPECT_EQ(d.smtp_code, 250);
  EXPECT_EQ(d.enhanced_code, "2.0.0");
  EXPECT_EQ(d.reason, "");
  EXPECT_EQ(d.delivery_ms, 120);
  EXPECT_EQ(d.sample, Sample::kMs);
  EXPECT_EQ(d.sample_ms, 120);
  EXPECT_FALSE(d.media_missing);
}

// The accounting file's tls columns: the version, "none" for a plain session, and nothing when
// the RESULT carried no TLS fields (an older gateway).
TEST(OutcomePolicy, TheDecisionCarriesTheTlsTheResultNamed) {
  proto::ResultFrame r = result(proto::Outcome::kDeferred);
  OutcomeDecision older = decideResult(r, 5, {0, 0, 0}, policy(), kNow);
  EXPECT_EQ(older.tls, "");
  EXPECT_FALSE(older.tls_verified);
  r.has_tls = true;
  EXPECT_EQ(decideResult(r, 5, {0, 0, 0}, policy(), kNow).tls, "none");
  r.tls_version = "TLSv1.3";
  r.tls_verified = true;
  OutcomeDecision d = decideResult(r, 5, {0, 0, 0}, policy(), kNow);
  EXPECT_EQ(d.tls, "TLSv1.3");
  EXPECT_TRUE(d.tls_verified);
  r.has_tls = false;  // fields an older gateway never sent are not believed
  EXPECT_FALSE(decideResult(r, 5, {0, 0, 0}, policy(), kNow).tls_verified);
}

proto::ResultFrame bounce(std::string_view enhanced) {
  proto::ResultFrame r = result(proto::Outcome::kBounced);
  r.smtp_code = 554;
  r.enhanced_code = enhanced;
  return r;
}

// The address is bad: the recipient's fault, not the gateway's. The refusal at RCPT came quicker
// than any delivery would, so a sample would reward the gateway for it: there is none.
TEST(OutcomePolicy, BouncedByTheAddressIsFinalWithTheReplyAndNoSample) {
  for (std::string_view enhanced : {"5.1.1", "5.2.2", ""}) {
    OutcomeDecision d = decideResult(bounce(enhanced), 80, {0, 0, 0}, policy(), kNow);
    EXPECT_EQ(d.kind, Kind::kFinal);
    EXPECT_EQ(d.state, RecipientState::kBounced);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.reason, "the reply");
    EXPECT_EQ(d.delivery_ms, 80);
    EXPECT_EQ(d.sample, Sample::kNone) << enhanced;
  }
}

TEST(OutcomePolicy, PolicyStatusIsSubjectSevenOfAFailureClass) {
  for (std::string_view code : {"5.7.1", "4.7.0", "5.7.26", "4.7.650"}) EXPECT_TRUE(isPolicyStatus(code)) << code;
  for (std::string_view code : {"", "5.7", "5.1.1", "2.7.0", "5.77.1", "5.17.1", "x.7.1", "57.1"}) {
    EXPECT_FALSE(isPolicyStatus(code)) << code;
  }
}

// A blocklisted source address (554 5.7.1 for every RCPT from it) answers in milliseconds: that
// must not make its gateway look fast, and the recipient goes through another gateway at once.
TEST(OutcomePolicy, ABounceByPolicyIsASlowSampleAndGoesThroughAnotherGateway) {
  OutcomeDecision d = decideResult(bounce("5.7.1"), 3, {1, kNow - 10, 2}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kReroute);
  EXPECT_EQ(d.attempts, 2u);  // an attempt: a gateway tried it
  EXPECT_EQ(d.requeues, 2u);
  EXPECT_EQ(d.smtp_code, 554);
  EXPECT_EQ(d.reason, "the reply");
  EXPECT_EQ(d.sample, Sample::kSlow);
  EXPECT_EQ(d.sample_ms, 30000);
  // A second gateway refuses it too: the third is still untried.
  AttemptHistory h{2, kNow - 10, 2, 1, false};
  EXPECT_EQ(decideResult(bounce("5.7.1"), 3, h, policy(), kNow).kind, Kind::kReroute);
}

TEST(OutcomePolicy, ABounceByPolicyIsFinalOnceEveryGatewayRefusedIt) {
  AttemptHistory h{2, kNow - 10, 0, 2, false};
  OutcomeDecision d = decideResult(bounce("5.7.1"), 3, h, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.attempts, 3u);
  EXPECT_EQ(d.enhanced_code, "5.7.1");
  EXPECT_EQ(d.reason, "refused by policy through 3 of 3 gateways: the reply");
  EXPECT_EQ(d.sample, Sample::kSlow);
  // With one gateway there is no other to try.
  RetryPolicy one = policy();
  one.gateways = 1;
  d = decideResult(bounce("5.7.1"), 3, {0, 0, 0}, one, kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.reason, "the reply");
}

// Back at a gateway that refused it before: no other could take it (down, or without the media),
// and the same gateway will not change its mind.
TEST(OutcomePolicy, ABounceByPolicyFromAGatewayThatRefusedBeforeIsFinal) {
  AttemptHistory h{1, kNow - 10, 0, 1, true};
  OutcomeDecision d = decideResult(bounce("5.7.1"), 3, h, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.reason, "refused by policy through 1 of 3 gateways: the reply");
}

TEST(OutcomePolicy, ABounceByPolicyIsFinalAtMaxAttempts) {
  OutcomeDecision d = decideResult(bounce("5.7.1"), 3, {4, kNow - 10, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.attempts, 5u);
}

// 4.7.x (greylisting by reputation, a rate limit on the sender) is a deferral and slow, like any.
TEST(OutcomePolicy, ADeferralByPolicyIsASlowSample) {
  proto::ResultFrame r = result(proto::Outcome::kDeferred);
  r.smtp_code = 450;
  r.enhanced_code = "4.7.1";
  OutcomeDecision d = decideResult(r, 3, {0, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.sample, Sample::kSlow);
  EXPECT_EQ(d.sample_ms, 30000);
}

TEST(OutcomePolicy, TheHistoryKnowsWhichGatewaysRefusedTheRecipient) {
  PendingRecipient p;
  p.attempts = 2;
  p.first_at = kNow;
  p.requeues = 1;
  p.refused_by = {0, 2};
  AttemptHistory h = historyOf(p, 2);
  EXPECT_EQ(h.attempts, 2u);
  EXPECT_EQ(h.first_at, kNow);
  EXPECT_EQ(h.requeues, 1u);
  EXPECT_EQ(h.refused_by, 2u);
  EXPECT_TRUE(h.refused_here);
  EXPECT_FALSE(historyOf(p, 1).refused_here);
}

TEST(OutcomePolicy, FailedIsFinalAndASlowSample) {
  OutcomeDecision d = decideResult(result(proto::Outcome::kFailed), 80, {0, 0, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kFailed);
  EXPECT_EQ(d.reason, "the reply");
  EXPECT_EQ(d.sample, Sample::kSlow);
  EXPECT_EQ(d.sample_ms, 30000);
}

TEST(OutcomePolicy, DeferredWaitsOnTheScheduleAndIsASlowSample) {
  OutcomeDecision d = decideResult(result(proto::Outcome::kDeferred), 80, {0, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.state, RecipientState::kDeferred);
  EXPECT_EQ(d.attempts, 1u);
  EXPECT_EQ(d.next_at, kNow + 60);
  EXPECT_EQ(d.reason, "the reply");
  EXPECT_EQ(d.delivery_ms, 80);
  EXPECT_EQ(d.sample, Sample::kSlow);
  EXPECT_EQ(d.sample_ms, 30000);
  // Slower than the floor: the time itself.
  d = decideResult(result(proto::Outcome::kDeferred), 45000, {0, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.sample_ms, 45000);
}

TEST(OutcomePolicy, TheRetryScheduleIsIndexedByAttemptsAndItsLastEntryRepeats) {
  auto wait = [](uint32_t before) {
    OutcomeDecision d = decideResult(result(proto::Outcome::kDeferred), 1, {before, kNow, 0}, policy(), kNow);
    EXPECT_EQ(d.kind, Kind::kDefer);
    return d.next_at - kNow;
  };
  EXPECT_EQ(wait(0), 60);   // after the first attempt
  EXPECT_EQ(wait(1), 300);  // after the second
  EXPECT_EQ(wait(2), 900);
  EXPECT_EQ(wait(3), 900);  // the last repeats
}

TEST(OutcomePolicy, MaxAttemptsGivesUp) {
  OutcomeDecision d = decideResult(result(proto::Outcome::kDeferred), 1, {4, kNow - 100, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kFailed);
  EXPECT_EQ(d.attempts, 5u);
  EXPECT_EQ(d.reason, "gave up after 5 attempts over 100 s: the reply");
  EXPECT_EQ(d.smtp_code, 250);
  EXPECT_EQ(d.sample, Sample::kSlow);
  // The gateway's tally still counts what its RESULT said: a deferral, not a failure.
  EXPECT_EQ(stateNamed(proto::Outcome::kDeferred), RecipientState::kDeferred);
}

TEST(OutcomePolicy, EachOutcomeNamesItsState) {
  EXPECT_EQ(stateNamed(proto::Outcome::kDelivered), RecipientState::kDelivered);
  EXPECT_EQ(stateNamed(proto::Outcome::kBounced), RecipientState::kBounced);
  EXPECT_EQ(stateNamed(proto::Outcome::kDeferred), RecipientState::kDeferred);
  EXPECT_EQ(stateNamed(proto::Outcome::kFailed), RecipientState::kFailed);
  EXPECT_EQ(stateNamed(static_cast<proto::Outcome>(200)), RecipientState::kFailed);  // newer than us
}

TEST(OutcomePolicy, MaxAgeGivesUp) {
  OutcomeDecision d = decideResult(result(proto::Outcome::kDeferred), 1, {1, kNow - 3600, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kFailed);
  EXPECT_EQ(d.reason, "gave up after 2 attempts over 3600 s: the reply");
  d = decideResult(result(proto::Outcome::kDeferred), 1, {1, kNow - 3599, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  // Never attempted before: no age yet.
  d = decideResult(result(proto::Outcome::kDeferred), 1, {0, 0, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
}

TEST(OutcomePolicy, RejectsTheGatewayCannotDoNowRequeueWithoutAnAttempt) {
  for (auto reason : {proto::RejectReason::kOverCapacity, proto::RejectReason::kDraining,
                      proto::RejectReason::kUnknownMaterial, proto::RejectReason::kMissingMedia,
                      proto::RejectReason::kExpired}) {
    OutcomeDecision d = decideReject(reject(reason), {2, kNow, 3}, policy(), kNow);
    EXPECT_EQ(d.kind, Kind::kRequeue) << static_cast<int>(reason);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.requeues, 4u);
    EXPECT_EQ(d.sample, Sample::kNone);
    EXPECT_EQ(d.media_missing, reason == proto::RejectReason::kMissingMedia);
  }
}

// The message cannot be built from the recipient's fields (a line break in a field used in a
// header): the same on every gateway and every attempt, so final at once, with the reason.
TEST(OutcomePolicy, RejectsOfTheRecipientAreFinal) {
  for (auto reason :
       {proto::RejectReason::kBadAddress, proto::RejectReason::kMissingField, proto::RejectReason::kBadContent}) {
    OutcomeDecision d = decideReject(reject(reason), {2, kNow, 0}, policy(), kNow);
    EXPECT_EQ(d.kind, Kind::kFinal);
    EXPECT_EQ(d.state, RecipientState::kFailed);
    EXPECT_EQ(d.attempts, 3u);
    EXPECT_EQ(d.smtp_code, 0);
    EXPECT_EQ(d.reason, "rejected by gateway: why");
    EXPECT_EQ(d.sample, Sample::kNone);
  }
}

TEST(OutcomePolicy, OtherRejectsAreAttemptsDeferred) {
  for (auto reason : {proto::RejectReason::kOther, static_cast<proto::RejectReason>(42)}) {
    OutcomeDecision d = decideReject(reject(reason), {0, kNow, 0}, policy(), kNow);
    EXPECT_EQ(d.kind, Kind::kDefer);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.next_at, kNow + 60);
    EXPECT_EQ(d.reason, "rejected by gateway: why");
    EXPECT_EQ(d.sample, Sample::kNone);
  }
  // And give up like any deferral.
  OutcomeDecision d = decideReject(reject(proto::RejectReason::kOther), {4, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kFailed);
}

TEST(OutcomePolicy, ATimeoutIsADeferralAndASampleOfTheTimeout) {
  OutcomeDecision d = decideTimeout({1, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.next_at, kNow + 300);
  EXPECT_EQ(d.reason, "no answer within result_timeout");
  EXPECT_EQ(d.delivery_ms, 600000);
  EXPECT_EQ(d.sample, Sample::kMs);
  EXPECT_EQ(d.sample_ms, 600000);
  d = decideTimeout({4, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.reason, "gave up after 5 attempts over 0 s: no answer within result_timeout");
}

TEST(OutcomePolicy, SentBackTooOftenWaitsForARetryWithoutAnAttempt) {
  OutcomeDecision d = decideRequeue({1, kNow, 7}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kRequeue);
  EXPECT_EQ(d.requeues, 8u);
  d = decideRequeue({1, kNow, 8}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.attempts, 1u);  // not an attempt
  EXPECT_EQ(d.next_at, kNow + 60);
  EXPECT_EQ(d.reason, "sent back by the gateways too often");
  d = decideReject(reject(proto::RejectReason::kOverCapacity), {1, kNow, 8}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
}

TEST(OutcomePolicy, TheCampaignSettingsBecomeThePolicy) {
  using namespace std::chrono_literals;
  InitiatorConfig c;
  c.campaign.max_attempts = 3;
  c.campaign.max_age = 2h;
  c.campaign.retry_schedule = {30s, 2min};
  c.campaign.result_timeout = 90s;
  c.selection.slow_sample = 20s;
  c.gateways.resize(4);
  RetryPolicy p = retryPolicyOf(c);
  EXPECT_EQ(p.max_attempts, 3u);
  EXPECT_EQ(p.max_age_s, 7200);
  EXPECT_EQ(p.retry_schedule_s, (std::vector<double>{30, 120}));
  EXPECT_EQ(p.result_timeout_ms, 90000);
  EXPECT_EQ(p.slow_sample_ms, 20000);
  EXPECT_EQ(p.gateways, 4u);
}

// ---- RESULT's reply class (issue 20) ----

// A RESULT from a gateway with shaping: its reply class and the recipient domain's site.
proto::ResultFrame classed(proto::Outcome o, int code, std::string_view enhanced, shaping::ReplyClass c) {
  proto::ResultFrame r = result(o);
  r.smtp_code = static_cast<uint16_t>(code);
  r.enhanced_code = enhanced;
  r.has_tls = true;
  r.has_shaping = true;
  r.reply_class = static_cast<uint8_t>(c);
  r.site = "gmail";
  return r;
}

// DMARC (550 5.7.26) and content refusals are final wherever the message goes from: the class
// says mailbox, so no other gateway is tried, and it is no sample (the route is not to blame).
TEST(OutcomePolicy, AMailboxClassIsAFinalBounceWithNoSampleEvenForSubjectSeven) {
  proto::ResultFrame r = classed(proto::Outcome::kBounced, 550, "5.7.26", shaping::ReplyClass::kMailbox);
  OutcomeDecision d = decideResult(r, 3, {1, kNow - 10, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.enhanced_code, "5.7.26");
  EXPECT_EQ(d.reason, "the reply");
  EXPECT_EQ(d.sample, Sample::kNone);
  // The same RESULT from a gateway without the class goes by the code: a reroute by policy.
  r.has_shaping = false;
  EXPECT_EQ(decideResult(r, 3, {1, kNow - 10, 0}, policy(), kNow).kind, Kind::kReroute);
}

// A block-list text with a code that says nothing of policy (554 without an enhanced code, or
// 5.0.0): the class makes it a refusal of the sender, rerouted like a 5.7.x.
TEST(OutcomePolicy, ABlockClassBounceIsReroutedLikeAPolicyBounce) {
  proto::ResultFrame r = classed(proto::Outcome::kBounced, 554, "5.0.0", shaping::ReplyClass::kBlock);
  OutcomeDecision d = decideResult(r, 3, {1, kNow - 10, 2}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kReroute);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.requeues, 2u);
  EXPECT_EQ(d.sample, Sample::kSlow);
  EXPECT_EQ(d.sample_ms, 30000);
  // Every gateway refused it: final, as by policy.
  d = decideResult(r, 3, {2, kNow - 10, 0, 2, false}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kBounced);
  EXPECT_EQ(d.reason, "refused by policy through 3 of 3 gateways: the reply");
  EXPECT_EQ(d.sample, Sample::kSlow);
  // Without the class, 5.0.0 is the address's fault: final, no sample.
  r.has_shaping = false;
  d = decideResult(r, 3, {1, kNow - 10, 2}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.sample, Sample::kNone);
}

// 451 4.7.1 "... listed at ...": this gateway's address is refused for now; another gateway may
// deliver at once. With none left, a retry on the schedule, never a bounce.
TEST(OutcomePolicy, ABlockClassDeferralIsReroutedThenDeferredWhenNoGatewayIsLeft) {
  proto::ResultFrame r = classed(proto::Outcome::kDeferred, 451, "4.7.1", shaping::ReplyClass::kBlock);
  OutcomeDecision d = decideResult(r, 3, {1, kNow - 10, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kReroute);
  EXPECT_EQ(d.state, RecipientState::kDeferred);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.sample, Sample::kSlow);
  for (AttemptHistory h : {AttemptHistory{1, kNow - 10, 0, 2, false}, AttemptHistory{1, kNow - 10, 0, 1, true}}) {
    d = decideResult(r, 3, h, policy(), kNow);
    EXPECT_EQ(d.kind, Kind::kDefer);
    EXPECT_EQ(d.state, RecipientState::kDeferred);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.next_at, kNow + 300);
    EXPECT_EQ(d.smtp_code, 451);
    EXPECT_EQ(d.sample, Sample::kSlow);
  }
  // At max_attempts it gives up (failed), as any deferral.
  d = decideResult(r, 3, {4, kNow - 10, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kFailed);
  // Without the class: a deferral on the schedule, as before.
  r.has_shaping = false;
  EXPECT_EQ(decideResult(r, 3, {1, kNow - 10, 0}, policy(), kNow).kind, Kind::kDefer);
}

// 421 4.7.28 (Gmail's rate limit): requeued at once for another gateway, not an attempt, but a
// requeue (so it cannot spin) and a slow sample.
TEST(OutcomePolicy, AThrottleClassIsRequeuedAtOnceWithoutAnAttempt) {
  proto::ResultFrame r = classed(proto::Outcome::kDeferred, 421, "4.7.28", shaping::ReplyClass::kThrottle);
  OutcomeDecision d = decideResult(r, 40, {2, kNow - 10, 3}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kRequeue);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.requeues, 4u);
  EXPECT_EQ(d.sample, Sample::kSlow);
  EXPECT_EQ(d.sample_ms, 30000);
  // Sent back too often: a deferral on the schedule, still not an attempt, with the reply.
  d = decideResult(r, 40, {2, kNow - 10, 8}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.smtp_code, 421);
  EXPECT_EQ(d.reason, "throttled, sent back too often: the reply");
  EXPECT_EQ(d.sample, Sample::kSlow);
  // Without the class: a deferral that counts as an attempt.
  r.has_shaping = false;
  d = decideResult(r, 40, {2, kNow - 10, 3}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.attempts, 3u);
}

// Transient, protocol and classes newer than this initiator go by the outcome, as before; a
// delivery stays the only fast sample.
TEST(OutcomePolicy, OtherClassesGoByTheOutcome) {
  using shaping::ReplyClass;
  OutcomeDecision d =
      decideResult(classed(proto::Outcome::kDeferred, 451, "4.3.0", ReplyClass::kTransient), 40, {0, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.attempts, 1u);
  EXPECT_EQ(d.sample, Sample::kSlow);
  d = decideResult(classed(proto::Outcome::kFailed, 0, "", ReplyClass::kProtocol), 40, {0, kNow, 0}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kFinal);
  EXPECT_EQ(d.state, RecipientState::kFailed);
  EXPECT_EQ(d.sample, Sample::kSlow);
  d = decideResult(classed(proto::Outcome::kDelivered, 250, "2.0.0", ReplyClass::kDelivered), 40, {0, kNow, 0}, policy(),
                   kNow);
  EXPECT_EQ(d.state, RecipientState::kDelivered);
  EXPECT_EQ(d.sample, Sample::kMs);
  proto::ResultFrame newer = classed(proto::Outcome::kBounced, 554, "5.7.1", ReplyClass::kBlock);
  newer.reply_class = 99;
  EXPECT_EQ(decideResult(newer, 40, {0, kNow, 0}, policy(), kNow).kind, Kind::kReroute);  // 5.7.1: by policy
  // A class that does not fit the outcome (a throttle said of a delivery) changes nothing.
  d = decideResult(classed(proto::Outcome::kDelivered, 250, "2.0.0", ReplyClass::kThrottle), 40, {0, kNow, 0}, policy(),
                   kNow);
  EXPECT_EQ(d.state, RecipientState::kDelivered);
}

// The site is suspended or out of warm-up on this gateway: it never tried, another gateway may.
TEST(OutcomePolicy, SiteUnavailableIsARequeueWithoutAnAttemptOrASample) {
  proto::RejectFrame r = reject(proto::RejectReason::kSiteUnavailable);
  r.has_site = true;
  r.site = "gmail";
  OutcomeDecision d = decideReject(r, {2, kNow, 3}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kRequeue);
  EXPECT_EQ(d.attempts, 2u);
  EXPECT_EQ(d.requeues, 4u);
  EXPECT_EQ(d.sample, Sample::kNone);
  d = decideReject(r, {2, kNow, 8}, policy(), kNow);
  EXPECT_EQ(d.kind, Kind::kDefer);
  EXPECT_EQ(d.attempts, 2u);
}

}  // namespace
}  // namespace lbmail
