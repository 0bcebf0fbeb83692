// Late and handed-over answers: what each means for its recipient.
#include "late_answers.h"

#include "gateway_links.h"
#include "recipient_feed.h"

namespace lbmail {

StrayResult StrayResult::of(size_t g, const proto::ResultFrame& r) {
  StrayResult s;
  s.gateway = g;
  s.request_id = r.request_id;
  s.outcome = r.outcome;
  s.smtp_code = r.smtp_code;
  s.enhanced_code = r.enhanced_code;
  s.reply = r.reply;
  s.total_us = r.timings.total_us;
  s.has_tls = r.has_tls;
  s.tls_version = r.tls_version;
  s.tls_verified = r.tls_verified;
  s.tls_dane = r.tls_dane;
  s.tls_policy = r.tls_policy;
  return s;
}

proto::ResultFrame StrayResult::frame() const {
  proto::ResultFrame r;
  r.request_id = request_id;
  r.outcome = outcome;
  r.smtp_code = smtp_code;
  r.enhanced_code = enhanced_code;
  r.reply = reply;
  r.timings.total_us = total_us;
  r.has_tls = has_tls;
  r.tls_version = tls_version;
  r.tls_verified = tls_verified;
  r.tls_dane = tls_dane;
  r.tls_policy = tls_policy;
  return r;
}

StrayVerdict judgeStray(const StrayResult& s, std::optional<LedgerRow>&& row, bool delivered_this_run,
                        const RetryPolicy& policy, const CampaignSettings& campaign,
                        std::span<const std::string> gateway_names, double now) {
  StrayVerdict v;
  if (!row || (row->has_state && row->request_id == s.request_id)) return v;
  bool delivered = s.outcome == proto::Outcome::kDelivered;
  bool row_delivered = row->has_state && row->state == recipientStateName(RecipientState::kDelivered);
  // Only a delivery is news. Anything else leaves the recipient to this run: the row was read
  // off the loop and an attempt of this run may be under way or answered since, so a deferral
  // or a bounce written now could undo a delivery or set off a second send; and a 5.7.x
  // refusal is this run's to retry through another gateway.
  if (!delivered) return v;
  v.recipient = pendingFromStored(std::move(row->recipient), gateway_names, campaign);
  // The gateway's own measure: the initiator's clock did not see this attempt go out.
  double ms = static_cast<double>(s.total_us) / 1000.0;
  AttemptHistory h{v.recipient.attempts, v.recipient.first_at, 0};
  if (v.recipient.first_at == 0) v.recipient.first_at = now - ms / 1000.0;
  v.decision = decideResult(s.frame(), ms, h, policy, now);
  if (v.decision.kind == OutcomeDecision::Kind::kRequeue) return StrayVerdict{};
  bool repeat = delivered && (row_delivered || delivered_this_run);
  v.kind = repeat ? StrayVerdict::Kind::kRepeat : StrayVerdict::Kind::kRecord;
  return v;
}

void LateAnswers::retire(const InFlightRequest& f) {
  if (retired_.size() >= kMaxRetired) {
    forget(retired_.begin()->second.r.id);
    retired_.erase(retired_.begin());
  }
  InFlightRequest copy;
  copy.r.id = f.r.id;
  copy.r.email = f.r.email;
  copy.r.domain = f.r.domain;
  copy.r.domain_id = f.r.domain_id;
  copy.r.material = f.r.material;
  copy.r.attempts = f.r.attempts;
  copy.r.first_at = f.r.first_at;
  copy.gateway = f.gateway;
  copy.sent_ms = f.sent_ms;
  copy.request_id = f.request_id;
  retired_.insert_or_assign(f.request_id, std::move(copy));
  ++open_[f.r.id];
}

std::optional<InFlightRequest> LateAnswers::takeRetired(uint64_t request_id) {
  auto it = retired_.find(request_id);
  if (it == retired_.end()) return std::nullopt;
  InFlightRequest f = std::move(it->second);
  retired_.erase(it);
  forget(f.r.id);
  return f;
}

void LateAnswers::forget(uint64_t recipient_id) {
  auto it = open_.find(recipient_id);
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

}  // namespace lbmail
