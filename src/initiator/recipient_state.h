// Where a recipient stands in a campaign: the states the ledger stores and the accounting file names.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace lbmail {

// Delivered, bounced, failed and suppressed are final; a deferred recipient waits for its retry.
// Suppressed: its address is on the suppression list (or was suppressed by feedback during the
// run), so it was never sent. The ledger also stores 'sending' for a claimed retry, which never
// leaves the database.
enum class RecipientState { kDelivered, kBounced, kFailed, kDeferred, kSuppressed };
inline constexpr size_t kRecipientStates = 5;

inline constexpr std::string_view recipientStateName(RecipientState s) {
  switch (s) {
    case RecipientState::kDelivered: return "delivered";
    case RecipientState::kBounced: return "bounced";
    case RecipientState::kFailed: return "failed";
    case RecipientState::kDeferred: return "deferred";
    case RecipientState::kSuppressed: return "suppressed";
  }
  return "failed";
}

inline std::optional<RecipientState> parseRecipientState(std::string_view name) {
  for (RecipientState s :
       {RecipientState::kDelivered, RecipientState::kBounced, RecipientState::kFailed, RecipientState::kDeferred,
        RecipientState::kSuppressed}) {
    if (recipientStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace lbmail
