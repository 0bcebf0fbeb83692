// What an SMTP reply says about the way it was sent, beyond its code: the class decides what
// the gateway's shaping does (slow down, suspend) and what the initiator does with the
// recipient (final, retried through another gateway, retried later). docs/shaping.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lbmail::shaping {

// Numbered for the wire (RESULT's reply_class, docs/protocol.md): never renumber.
enum class ReplyClass : uint8_t {
  kDelivered = 1,  // 2xx at the end of the transaction
  kMailbox = 2,    // final for this recipient or message wherever it is sent from: 5.1.x (no
                   // such user), 5.2.1 (disabled), 5.2.2 (over quota, permanent), 5.3.4 (too big)
  kBlock = 3,      // the receiver refuses the sending address (block list, reputation): RFC 3463
                   // x.7.x and the block-list texts; the same message may go from elsewhere
  kThrottle = 4,   // slow down: 421, 4.7.x rate texts, 450/451 with rate or volume texts
  kTransient = 5,  // any other 4xx: try again later
  kProtocol = 6,   // no usable reply: network failure, timeout, a reply that breaks the protocol
};
constexpr uint8_t kMaxReplyClass = 6;

const char* replyClassName(ReplyClass c);  // "delivered", "mailbox", "block", ...
std::optional<ReplyClass> parseReplyClass(std::string_view name);

}  // namespace lbmail::shaping
