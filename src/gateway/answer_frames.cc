// RESULT and REJECT from a delivery's outcome.
#include "answer_frames.h"

#include <algorithm>

namespace lbmail {
namespace {

uint64_t micros(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

proto::Outcome outcomeOf(delivery::DeliveryOutcome o) {
  switch (o) {
    case delivery::DeliveryOutcome::kDelivered: return proto::Outcome::kDelivered;
    case delivery::DeliveryOutcome::kDeferred: return proto::Outcome::kDeferred;
    case delivery::DeliveryOutcome::kBounced: return proto::Outcome::kBounced;
  }
  return proto::Outcome::kFailed;
}

}  // namespace

proto::ResultFrame resultFrameOf(uint64_t request_id, const delivery::DeliveryResult& r, Duration total,
                                 ResultText& text) {
  proto::ResultFrame result;
  result.request_id = request_id;
  result.outcome = outcomeOf(r.outcome);
  result.smtp_code = static_cast<uint16_t>(std::clamp(r.reply.code, 0, 999));
  result.enhanced_code = r.reply.enhanced;
  text.reply = r.reply.code ? r.reply.summary(proto::kMaxReplyBytes) : r.reason;
  result.reply = text.reply;
  // A static route has no MX host name: its address stands in.
  text.mx_host = !r.mx_host.empty() ? r.mx_host : r.mx_address.port() ? r.mx_address.toString() : "";
  result.mx_host = text.mx_host;
  result.timings.queue_us = micros(r.timings.queue_wait);
  result.timings.dns_us = micros(r.timings.dns);
  result.timings.connect_us = micros(r.timings.connect);
  result.timings.smtp_us = micros(r.timings.transaction);
  result.timings.total_us = micros(total);
  result.has_tls = true;
  result.tls_version = r.tls.version;
  result.tls_verified = r.tls.verified;
  result.tls_dane = r.tls.dane;
  result.tls_policy = static_cast<uint8_t>(r.tls.policy);
  result.has_shaping = true;
  result.reply_class = static_cast<uint8_t>(r.reply_class);
  result.site = r.site;
  return result;
}

proto::RejectFrame unsentFrameOf(uint64_t request_id, const delivery::DeliveryResult& r,
                                 std::string_view withdrawn_why) {
  if (r.site_unavailable) {
    return {request_id, proto::RejectReason::kSiteUnavailable, r.reason, !r.site.empty(), r.site};
  }
  return {request_id, proto::RejectReason::kExpired, withdrawn_why, !r.site.empty(), r.site};
}

}  // namespace lbmail
