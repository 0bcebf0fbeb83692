// Outcome classification (RFC 5321 section 4.2.1) and safe envelope paths.
#include "lbmail/smtp/delivery_result.h"

#include "lbmail/smtp/outgoing_message.h"

namespace lbmail::smtp {

const char* outcomeName(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::kDelivered: return "delivered";
    case DeliveryOutcome::kDeferred: return "deferred";
    case DeliveryOutcome::kBounced: return "bounced";
  }
  return "unknown";
}

DeliveryOutcome outcomeOf(const SmtpReply& reply) {
  if (reply.code >= 200 && reply.code < 300) return DeliveryOutcome::kDelivered;
  if (reply.code >= 500 && reply.code < 600) return DeliveryOutcome::kBounced;
  // 4xx, and a 3xx where a final reply belonged: try again later.
  return DeliveryOutcome::kDeferred;
}

DeliveryOutcome combineOutcomes(const std::vector<RecipientResult>& recipients) {
  bool all_delivered = !recipients.empty();
  bool any_deferred = recipients.empty();
  for (const RecipientResult& r : recipients) {
    all_delivered = all_delivered && r.outcome == DeliveryOutcome::kDelivered;
    any_deferred = any_deferred || r.outcome == DeliveryOutcome::kDeferred;
  }
  if (all_delivered) return DeliveryOutcome::kDelivered;
  return any_deferred ? DeliveryOutcome::kDeferred : DeliveryOutcome::kBounced;
}

bool safeSmtpPath(std::string_view text) {
  if (text.size() > 256) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

}  // namespace lbmail::smtp
