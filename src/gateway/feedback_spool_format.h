// The feedback spool's file format, as pure functions over bytes: an 8-byte magic, then records,
// each a 4-byte little-endian payload length, the payload's XXH3-64 and the payload. A record
// whose length runs past the end or whose hash does not match ends what is read: after a kill
// -9 only the last record can be torn, and everything before it stands.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "feedback_event.h"

namespace lbmail {

constexpr std::string_view kSpoolMagic = "LBFBSP01";
constexpr size_t kMaxSpoolPayload = 64 * 1024;

struct SpoolRecord {
  enum class Type : uint8_t {
    kEvent = 1,         // an event, as received
    kAcknowledged = 2,  // sequences an initiator acknowledged
    kUsedToken = 3,     // a final event's token, kept for the replay check after compaction
    kNextSequence = 4,  // the next sequence to give (compaction may leave no event to say it)
    kRecordedToken = 5,  // a repeatable event's key (unsubscribe, soft bounce), kept after compaction
  };
  Type type = Type::kEvent;
  FeedbackEvent event;                // kEvent
  std::vector<uint64_t> acknowledged;  // kAcknowledged
  FeedbackTokenKey token;             // kUsedToken, kRecordedToken
  proto::FeedbackKind kind = proto::FeedbackKind::kUnsubscribe;  // kRecordedToken
  uint64_t at_ms = 0;                 // kUsedToken, kRecordedToken: when its event came
  uint64_t next_sequence = 0;         // kNextSequence
};

// Appends one framed record to out.
void appendSpoolRecord(const SpoolRecord& record, std::string& out);

struct SpoolReadResult {
  size_t good_bytes = 0;  // the prefix that holds whole, intact records (the magic included)
  bool damaged = false;   // something past good_bytes could not be read
  std::string why;        // what, for the log
};

// Calls each for every intact record in order; stops at the first damaged one. An empty file is
// an empty spool; a file without the magic is damaged at offset 0.
SpoolReadResult readSpoolRecords(std::string_view file, const std::function<void(SpoolRecord&&)>& each);

}  // namespace lbmail
