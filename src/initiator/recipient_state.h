// Where a recipient stands in a campaign: the states the ledger stores and the accounting file names.
#pragma once

#include <optional>
#include <string_view>

namespace lbmail {

// Delivered, bounced and failed are final; a deferred recipient waits for its retry. The
// ledger also stores 'sending' for a claimed retry, which never leaves the database.
enum class RecipientState { kDelivered, kBounced, kFailed, kDeferred };

inline constexpr std::string_view recipientStateName(RecipientState s) {
  switch (s) {
    case RecipientState::kDelivered: return "delivered";
    case RecipientState::kBounced: return "bounced";
    case RecipientState::kFailed: return "failed";
    case RecipientState::kDeferred: return "deferred";
  }
  return "failed";
}

inline std::optional<RecipientState> parseRecipientState(std::string_view name) {
  for (RecipientState s :
       {RecipientState::kDelivered, RecipientState::kBounced, RecipientState::kFailed, RecipientState::kDeferred}) {
    if (recipientStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace lbmail
