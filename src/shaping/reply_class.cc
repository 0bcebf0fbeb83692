// Names of the reply classes, as the rules file, logs and /status write them.
#include "lbmail/shaping/reply_class.h"

#include <array>

namespace lbmail::shaping {

namespace {

// Indexed by the wire number (reply_class.h); index 0 is not a class.
constexpr std::array<const char*, kMaxReplyClass + 1> kNames = {
    "", "delivered", "mailbox", "block", "throttle", "transient", "protocol"};

}  // namespace

const char* replyClassName(ReplyClass c) {
  auto index = static_cast<size_t>(c);
  return index >= 1 && index <= kMaxReplyClass ? kNames[index] : "unknown";
}

std::optional<ReplyClass> parseReplyClass(std::string_view name) {
  for (size_t i = 1; i <= kMaxReplyClass; ++i) {
    if (name == kNames[i]) return static_cast<ReplyClass>(i);
  }
  return std::nullopt;
}

}  // namespace lbmail::shaping
