// What frames, outcomes and feedback kinds are called in logs and errors, and which side of the
// link may send each frame type.
#include "lbmail/proto/frames.h"

namespace lbmail::proto {

const char* feedbackKindName(FeedbackKind k) {
  switch (k) {
    case FeedbackKind::kHardBounce: return "hard_bounce";
    case FeedbackKind::kSoftBounce: return "soft_bounce";
    case FeedbackKind::kComplaint: return "complaint";
    case FeedbackKind::kUnsubscribe: return "unsubscribe";
  }
  return "unknown";
}

const char* frameTypeName(FrameType t) {
  static constexpr const char* kNames[] = {"?",       "HELLO",  "AUTH_CHALLENGE", "AUTH_RESPONSE", "CATALOG", "MATERIAL",
                                           "SEND",    "ACCEPT", "REJECT",         "RESULT",        "CREDIT",  "LOAD",
                                           "PING",    "PONG",   "DRAIN",          "GOODBYE",       "HANDOVER", "SITES",
                                           "FEEDBACK", "FEEDBACK_ACK", "PROBE",  "PROBE_REPLY"};
  static_assert(sizeof kNames / sizeof kNames[0] == kMaxFrameType + 1);
  auto i = static_cast<size_t>(t);
  return i <= kMaxFrameType ? kNames[i] : "?";
}

const char* outcomeName(Outcome o) {
  switch (o) {
    case Outcome::kDelivered: return "delivered";
    case Outcome::kDeferred: return "deferred";
    case Outcome::kBounced: return "bounced";
    case Outcome::kFailed: return "failed";
  }
  return "?";
}

std::optional<Role> senderOf(FrameType t) {
  switch (t) {
    case FrameType::kCatalog:
    case FrameType::kAccept:
    case FrameType::kReject:
    case FrameType::kResult:
    case FrameType::kCredit:
    case FrameType::kLoad:
    case FrameType::kDrain:
    case FrameType::kHandover:
    case FrameType::kSites:
    case FrameType::kFeedback:
    case FrameType::kProbeReply: return Role::kGateway;
    case FrameType::kMaterial:
    case FrameType::kSend:
    case FrameType::kFeedbackAck:
    case FrameType::kProbe: return Role::kInitiator;
    case FrameType::kHello:
    case FrameType::kPing:
    case FrameType::kPong:
    case FrameType::kGoodbye: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace lbmail::proto
