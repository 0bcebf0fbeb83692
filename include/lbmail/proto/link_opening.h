// What a link's first bytes say about its peer: TLS, a plaintext link of an older version, or
// neither (docs/protocol.md, "Peers of older versions"). Protocol logic only, no I/O.
#pragma once

#include <cstdint>
#include <span>

#include "lbmail/core/buffer_list.h"
#include "lbmail/proto/frames.h"

namespace lbmail::proto {

struct LinkOpening {
  enum class Kind { kTls, kOldLink, kOther };
  Kind kind = Kind::kOther;
  uint8_t old_version = 0;  // kOldLink: the version byte of its frame header
};

// first: at least one byte, as read. The receiver's role matters: a gateway may refuse a
// ClientHello with an alert, so only an initiator takes an opening alert record for TLS.
LinkOpening classifyOpening(std::span<const uint8_t> first, Role receiver);

// A GOODBYE that an older plaintext initiator can read: the same layout, its version byte.
void encodeOldLinkGoodbye(BufferList& out, uint8_t version);

}  // namespace lbmail::proto
