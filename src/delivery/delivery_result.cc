// Outcome classification (RFC 5321 section 4.2.1).
#include "lbmail/delivery/delivery_result.h"

namespace lbmail::delivery {

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

DeliveryResult deliveryResultOf(smtp::SmtpTransactionResult&& transaction) {
  DeliveryResult result;
  result.recipients.resize(transaction.recipients.size());
  for (size_t i = 0; i < transaction.recipients.size(); ++i) {
    RecipientResult& r = result.recipients[i];
    r.reply = std::move(transaction.recipients[i]);
    // No reply at all: cut short by the network, so try again later.
    r.outcome = r.reply.code != 0 ? outcomeOf(r.reply) : DeliveryOutcome::kDeferred;
  }
  result.outcome = combineOutcomes(result.recipients);
  result.reply = std::move(transaction.reply);
  result.reason = std::move(transaction.reason);
  return result;
}

}  // namespace lbmail::delivery
