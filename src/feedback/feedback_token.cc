// PLACEHOLDER (issue 21): replaced by the feedback library's real implementation.
#include "lbmail/feedback/feedback_token.h"

namespace lbmail::feedback {

uint16_t dayOf(uint64_t unix_ms) { return static_cast<uint16_t>(unix_ms / 86'400'000); }
void appendToken(const FeedbackKey&, const TokenFields&, std::string&) {}
std::string mintToken(const FeedbackKey&, const TokenFields&) { return {}; }
const char* tokenErrorText(TokenError) { return "not implemented"; }
Expected<TokenFields, TokenError> verifyToken(std::span<const FeedbackKey>, std::string_view, const TokenCheck&) {
  return unexpected(TokenError::kMalformed);
}
void appendVerpAddress(std::string_view, std::string_view, std::string_view, std::string&) {}
std::optional<std::string_view> verpTokenOf(std::string_view, std::span<const std::string>) { return std::nullopt; }
std::string unsubscribeUrl(std::string_view, std::string_view) { return {}; }
std::optional<std::string_view> unsubscribeTokenOf(std::string_view) { return std::nullopt; }

}  // namespace lbmail::feedback
