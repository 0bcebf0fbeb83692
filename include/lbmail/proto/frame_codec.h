// Encoding and decoding of link frames: pure functions over byte spans, no I/O.
#pragma once

#include <cstdint>
#include <span>

#include "lbmail/core/buffer_list.h"
#include "lbmail/core/expected.h"
#include "lbmail/proto/frames.h"

namespace lbmail::proto {

struct FrameHeader {
  uint8_t version = kProtocolVersion;
  FrameType type = FrameType::kPing;
  uint16_t flags = 0;
  uint32_t length = 0;  // payload bytes after the header
};

enum class SplitStatus { kFrame, kNeedMore, kError };

struct SplitResult {
  SplitStatus status = SplitStatus::kNeedMore;
  size_t consumed = 0;  // header plus payload, when status is kFrame
  FrameHeader header;
  std::span<const uint8_t> payload;  // a view into the input
  const char* error = nullptr;
};

// Finds the first whole frame at the start of input. The header alone is checked (magic,
// version, type, flags, length against max_payload) before any payload is awaited, so a peer
// can never make the reader wait for, or buffer, more than max_payload bytes.
SplitResult splitFrame(std::span<const uint8_t> input, uint32_t max_payload);

// Decodes a payload into a frame whose strings are views into payload.
Expected<Frame, const char*> decodePayload(FrameType type, std::span<const uint8_t> payload);

// Appends one whole frame (header and payload) to out, written in place.
template <typename F>
void encodeFrame(BufferList& out, const F& frame);
void encodeFrame(BufferList& out, const Frame& frame);

// Why a SEND could never be accepted by a gateway (an address or field over its limit, a
// frame over max_payload), or nullptr. Such a request must fail, not be resent for ever.
const char* requestProblem(const SendFrame& frame, uint32_t max_payload);

// The encoded size of a frame, header included.
template <typename F>
size_t encodedSize(const F& frame);

}  // namespace lbmail::proto
