// One feedback event as the gateway keeps it until an initiator acknowledges it: what a
// FEEDBACK frame carries, with its own copies of the texts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lbmail/proto/frames.h"

namespace lbmail {

struct FeedbackEvent {
  uint64_t sequence = 0;  // the spool's number, increasing; 0 until the spool takes it
  proto::FeedbackKind kind = proto::FeedbackKind::kHardBounce;
  uint32_t campaign = 0;
  uint64_t recipient = 0;
  uint8_t attempt = 0;
  uint64_t at_ms = 0;  // Unix ms when it was received
  std::string status;  // RFC 3463 code, may be empty
  std::string source;  // "dsn", "text", "arf", "mailto", "one-click", "unsubscribe-page"
  std::string detail;  // at most proto::kMaxFeedbackDetailBytes

  // A hard bounce or a complaint: the token has done all it may do (a replay is refused).
  bool final() const {
    return kind == proto::FeedbackKind::kHardBounce || kind == proto::FeedbackKind::kComplaint;
  }
  proto::FeedbackFrame frame() const {
    return proto::FeedbackFrame{sequence, kind, campaign, recipient, attempt, at_ms, status, source, detail};
  }
};

// What a final event remembers of its token for the replay check.
struct FeedbackTokenKey {
  uint32_t campaign = 0;
  uint64_t recipient = 0;
  uint8_t attempt = 0;
  auto operator<=>(const FeedbackTokenKey&) const = default;
};

// What makes an unsubscribe or a soft bounce the same as one already recorded: an unsubscribe
// per (campaign, recipient), a soft bounce per (campaign, recipient, attempt). A reader's link
// clicked again, or a DSN for the same attempt sent again, adds nothing (and cannot fill the
// spool against real bounces).
struct FeedbackRepeatKey {
  proto::FeedbackKind kind = proto::FeedbackKind::kUnsubscribe;
  FeedbackTokenKey token;
  auto operator<=>(const FeedbackRepeatKey&) const = default;
};

// The event's repeat key, or none for a final event (the replay check refuses those at RCPT).
inline std::optional<FeedbackRepeatKey> repeatKeyOf(const FeedbackEvent& e) {
  if (e.kind == proto::FeedbackKind::kUnsubscribe) return FeedbackRepeatKey{e.kind, {e.campaign, e.recipient, 0}};
  if (e.kind == proto::FeedbackKind::kSoftBounce) return FeedbackRepeatKey{e.kind, {e.campaign, e.recipient, e.attempt}};
  return std::nullopt;
}

}  // namespace lbmail
