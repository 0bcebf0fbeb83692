// The outcome policy: answers to decisions, with no I/O.
#include "outcome_policy.h"

#include <algorithm>
#include <chrono>
#include <ranges>

#include "initiator_config.h"
#include "lbmail/shaping/reply_class.h"

namespace lbmail {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

OutcomeDecision final(RecipientState state, const AttemptHistory& h, int code, std::string enhanced, std::string reason,
                      double ms) {
  OutcomeDecision d;
  d.kind = OutcomeDecision::Kind::kFinal;
  d.state = state;
  d.attempts = h.attempts + 1;  // a gateway answered: it was an attempt
  d.smtp_code = code;
  d.enhanced_code = std::move(enhanced);
  d.reason = std::move(reason);
  d.delivery_ms = ms;
  return d;
}

// A retry on the schedule, or a failure once max_attempts or max_age is reached. attempted:
// a gateway tried it (counts toward max_attempts); false when it was only sent back.
OutcomeDecision deferOrGiveUp(const AttemptHistory& h, bool attempted, int code, std::string enhanced,
                              std::string reason, double ms, const RetryPolicy& p, double now) {
  uint32_t attempts = h.attempts + (attempted ? 1 : 0);
  double age = now - (h.first_at > 0 ? h.first_at : now);
  if (attempts >= p.max_attempts || age >= p.max_age_s) {
    std::string why = "gave up after " + std::to_string(attempts) + " attempts over " +
                      std::to_string(static_cast<int64_t>(age)) + " s: " + reason;
    return final(RecipientState::kFailed, h, code, std::move(enhanced), std::move(why), ms);
  }
  OutcomeDecision d;
  d.kind = OutcomeDecision::Kind::kDefer;
  d.state = RecipientState::kDeferred;
  d.attempts = attempts;
  const auto& schedule = p.retry_schedule_s;
  double wait = schedule.empty() ? 0 : schedule[std::min<size_t>(attempts > 0 ? attempts - 1 : 0, schedule.size() - 1)];
  d.next_at = now + wait;
  d.smtp_code = code;
  d.enhanced_code = std::move(enhanced);
  d.reason = std::move(reason);
  d.delivery_ms = ms;
  return d;
}

// Whether no other gateway is left to reroute a refused recipient through: every one refused
// it, it came back from one that refused it before (no other could take it), or this was its
// last attempt.
bool noGatewayLeft(const AttemptHistory& h, const RetryPolicy& p) {
  uint32_t refused_by = h.refused_by + (h.refused_here ? 0 : 1);
  return h.refused_here || refused_by >= p.gateways || h.attempts + 1 >= p.max_attempts;
}

// At once through a gateway that has not refused it (the campaign records this one as a refuser).
OutcomeDecision rerouted(const proto::ResultFrame& r, double ms, const AttemptHistory& h, RecipientState state) {
  OutcomeDecision d;
  d.kind = OutcomeDecision::Kind::kReroute;
  d.state = state;
  d.attempts = h.attempts + 1;
  d.requeues = h.requeues;
  d.smtp_code = r.smtp_code;
  d.enhanced_code = r.enhanced_code;
  d.reason = r.reply;
  d.delivery_ms = ms;
  return d;
}

// A refusal says where not to send: it counts as at least slow, never as a fast sample.
OutcomeDecision slowSample(OutcomeDecision d, double ms, const RetryPolicy& p) {
  d.sample = OutcomeDecision::Sample::kSlow;
  d.sample_ms = std::max(ms, p.slow_sample_ms);
  return d;
}

// A bounce by policy (RFC 3463 x.7.x, or a block by its reply class): the receiver refused this
// gateway's sender, not the address, so another gateway may still deliver it.
OutcomeDecision policyBounce(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p) {
  if (!noGatewayLeft(h, p)) return slowSample(rerouted(r, ms, h, RecipientState::kBounced), ms, p);
  std::string reply(r.reply);
  if (h.refused_by > 0) {
    uint32_t refused_by = h.refused_by + (h.refused_here ? 0 : 1);
    reply = "refused by policy through " + std::to_string(refused_by) + " of " + std::to_string(p.gateways) +
            " gateways: " + reply;
  }
  OutcomeDecision d = final(RecipientState::kBounced, h, r.smtp_code, std::string(r.enhanced_code), std::move(reply), ms);
  return slowSample(std::move(d), ms, p);
}

}  // namespace

AttemptHistory historyOf(const PendingRecipient& p, size_t g) {
  return {p.attempts, p.first_at, p.requeues, static_cast<uint32_t>(p.refused_by.size()),
          std::ranges::find(p.refused_by, g) != p.refused_by.end()};
}

// RFC 3463 section 3.8: subject 7 is "Security or Policy Status".
bool isPolicyStatus(std::string_view code) {
  return code.size() >= 4 && (code[0] == '4' || code[0] == '5') && code.substr(1, 3) == ".7.";
}

RetryPolicy retryPolicyOf(const InitiatorConfig& config) {
  const CampaignSettings& c = config.campaign;
  RetryPolicy p;
  p.max_attempts = c.max_attempts;
  p.max_age_s = seconds(c.max_age);
  for (Duration d : c.retry_schedule) p.retry_schedule_s.push_back(seconds(d));
  p.slow_sample_ms = seconds(config.selection.slow_sample) * 1000;
  p.result_timeout_ms = static_cast<double>(toMillis(c.result_timeout));
  p.gateways = static_cast<uint32_t>(config.gateways.size());
  return p;
}

RecipientState stateNamed(proto::Outcome outcome) {
  switch (outcome) {
    case proto::Outcome::kDelivered: return RecipientState::kDelivered;
    case proto::Outcome::kBounced: return RecipientState::kBounced;
    case proto::Outcome::kDeferred: return RecipientState::kDeferred;
    default: return RecipientState::kFailed;
  }
}

namespace {

OutcomeDecision decideByOutcome(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p,
                                double now) {
  std::string enhanced(r.enhanced_code);
  std::string reply(r.reply);
  OutcomeDecision d;
  // A deferral or failure says little about how fast the route is: it counts as at least slow.
  double slow = std::max(ms, p.slow_sample_ms);
  switch (r.outcome) {
    case proto::Outcome::kDelivered:
      d = final(RecipientState::kDelivered, h, r.smtp_code, enhanced, "", ms);
      d.sample = OutcomeDecision::Sample::kMs;
      d.sample_ms = ms;
      return d;
    case proto::Outcome::kBounced:
      if (isPolicyStatus(enhanced)) return policyBounce(r, ms, h, p);
      // The address is bad: that says nothing of the gateway, and a refusal at RCPT is quicker
      // than any delivery, so it is no sample.
      return final(RecipientState::kBounced, h, r.smtp_code, enhanced, reply, ms);
    case proto::Outcome::kDeferred: d = deferOrGiveUp(h, true, r.smtp_code, enhanced, reply, ms, p, now); break;
    case proto::Outcome::kFailed:
    default:  // an outcome newer than this initiator fails rather than loops
      d = final(RecipientState::kFailed, h, r.smtp_code, enhanced, reply, ms);
      break;
  }
  d.sample = OutcomeDecision::Sample::kSlow;
  d.sample_ms = slow;
  return d;
}

// A deferral the reply class calls a block (a 4xx block-list text): this gateway's address is
// refused for now, another gateway may deliver at once; with none left, a retry on the schedule.
OutcomeDecision blockDeferral(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p,
                              double now) {
  if (!noGatewayLeft(h, p)) return slowSample(rerouted(r, ms, h, RecipientState::kDeferred), ms, p);
  return slowSample(deferOrGiveUp(h, true, r.smtp_code, std::string(r.enhanced_code), std::string(r.reply), ms, p, now),
                    ms, p);
}

// Throttled (421, a rate text): the receiver takes mail from this gateway more slowly now (its
// shaping cuts the rate); another gateway may have room. A requeue at once, not an attempt,
// avoiding this gateway where another can take it; max_requeues keeps it from spinning.
OutcomeDecision throttled(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p,
                          double now) {
  OutcomeDecision d = decideRequeue(h, p, now);
  if (d.kind != OutcomeDecision::Kind::kRequeue) {
    d.smtp_code = r.smtp_code;
    d.enhanced_code = r.enhanced_code;
    d.reason = "throttled, sent back too often: " + std::string(r.reply);
  }
  return slowSample(std::move(d), ms, p);
}

// RESULT's reply class (issue 20), where the gateway sent one: what the reply says about the
// route decides, beyond the code. A class this initiator does not act on, or one that does not
// fit the outcome, goes by the outcome as before.
OutcomeDecision decideByClass(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p,
                              double now) {
  using shaping::ReplyClass;
  bool bounced = r.outcome == proto::Outcome::kBounced;
  bool deferred = r.outcome == proto::Outcome::kDeferred;
  switch (static_cast<ReplyClass>(r.reply_class)) {
    case ReplyClass::kMailbox:
      // Final wherever it is sent from, even a 5.7.x (DMARC, content): no sample, as a bad address.
      if (bounced) {
        return final(RecipientState::kBounced, h, r.smtp_code, std::string(r.enhanced_code), std::string(r.reply), ms);
      }
      break;
    case ReplyClass::kBlock:
      if (bounced) return policyBounce(r, ms, h, p);
      if (deferred) return blockDeferral(r, ms, h, p, now);
      break;
    case ReplyClass::kThrottle:
      if (bounced || deferred) return throttled(r, ms, h, p, now);
      break;
    default: break;
  }
  return decideByOutcome(r, ms, h, p, now);
}

}  // namespace

std::string tlsOf(const proto::ResultFrame& r) {
  if (!r.has_tls) return "";
  return r.tls_version.empty() ? "none" : std::string(r.tls_version);
}

OutcomeDecision decideResult(const proto::ResultFrame& r, double ms, const AttemptHistory& h, const RetryPolicy& p,
                             double now) {
  OutcomeDecision d = r.has_shaping ? decideByClass(r, ms, h, p, now) : decideByOutcome(r, ms, h, p, now);
  d.tls = tlsOf(r);
  d.tls_verified = r.has_tls && r.tls_verified;
  return d;
}

OutcomeDecision decideReject(const proto::RejectFrame& r, const AttemptHistory& h, const RetryPolicy& p, double now) {
  using Reason = proto::RejectReason;
  std::string why = "rejected by gateway: " + std::string(r.text);
  switch (r.reason) {
    case Reason::kMissingMedia: {
      OutcomeDecision d = decideRequeue(h, p, now);
      d.media_missing = true;
      return d;
    }
    case Reason::kOverCapacity:
    case Reason::kSiteUnavailable:  // this gateway may not send to the site now; another may
    case Reason::kDraining:
    case Reason::kUnknownMaterial:
    case Reason::kExpired: return decideRequeue(h, p, now);  // no server saw it: not an attempt
    case Reason::kBadAddress:
    case Reason::kMissingField:
    case Reason::kBadContent: return final(RecipientState::kFailed, h, 0, "", std::move(why), 0);
    default:  // kOther, and codes newer than this initiator
      return deferOrGiveUp(h, true, 0, "", std::move(why), 0, p, now);
  }
}

OutcomeDecision decideTimeout(const AttemptHistory& h, const RetryPolicy& p, double now) {
  OutcomeDecision d = deferOrGiveUp(h, true, 0, "", "no answer within result_timeout", p.result_timeout_ms, p, now);
  d.sample = OutcomeDecision::Sample::kMs;
  d.sample_ms = p.result_timeout_ms;
  return d;
}

// Back to the front of the queue, not counted as an attempt: the gateway never tried it.
OutcomeDecision decideRequeue(const AttemptHistory& h, const RetryPolicy& p, double now) {
  if (h.requeues + 1 > p.max_requeues) {
    // A recipient sent back over and over (one gateway that keeps refusing it) waits for a
    // retry instead.
    return deferOrGiveUp(h, false, 0, "", "sent back by the gateways too often", 0, p, now);
  }
  OutcomeDecision d;
  d.kind = OutcomeDecision::Kind::kRequeue;
  d.attempts = h.attempts;
  d.requeues = h.requeues + 1;
  return d;
}

}  // namespace lbmail
