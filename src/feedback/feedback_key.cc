// PLACEHOLDER (issue 21): replaced by the feedback library's real implementation.
#include "lbmail/feedback/feedback_key.h"

namespace lbmail::feedback {

Expected<FeedbackKey, std::string> FeedbackKey::load(const std::string& path, uint8_t) {
  return unexpected(path + ": not implemented yet");
}

FeedbackKey FeedbackKey::fromSecret(std::string_view secret, uint8_t id) { return FeedbackKey(std::string(secret), id); }

}  // namespace lbmail::feedback
