// libFuzzer target for the link frame decoder: split and decode a byte stream; every frame
// that decodes must re-encode to bytes that decode to the same encoding again.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lbmail/proto/frame_codec.h"

namespace {

using namespace lbmail;
using namespace lbmail::proto;

std::vector<uint8_t> flatten(const BufferList& b) {
  std::vector<uint8_t> out;
  for (const uv_buf_t& u : b.uvBufs()) out.insert(out.end(), u.base, u.base + u.len);
  return out;
}

// Encoding is canonical (minimal varints), so encode(decode(encode(f))) == encode(f).
void checkReencoding(const Frame& frame) {
  BufferList first;
  encodeFrame(first, frame);
  std::vector<uint8_t> bytes = flatten(first);
  SplitResult s = splitFrame(bytes, 0xffffffffu);
  assert(s.status == SplitStatus::kFrame && s.consumed == bytes.size());
  auto again = decodePayload(s.header.type, s.payload);
  assert(again);
  BufferList second;
  encodeFrame(second, *again);
  std::vector<uint8_t> bytes2 = flatten(second);
  assert(bytes == bytes2);
  (void)bytes2;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A small maximum so that the length check is exercised as well as the payload decoders.
  constexpr uint32_t kMaxPayload = 4096;
  std::span<const uint8_t> input(data, size);
  while (!input.empty()) {
    SplitResult s = splitFrame(input, kMaxPayload);
    if (s.status != SplitStatus::kFrame) break;
    assert(s.consumed >= kHeaderSize && s.consumed <= input.size());
    auto frame = decodePayload(s.header.type, s.payload);
    if (frame) checkReencoding(*frame);
    input = input.subspan(s.consumed);
  }
  return 0;
}
