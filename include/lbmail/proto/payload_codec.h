// The payload encoding of link frames: LEB128 varints, length-prefixed byte strings and fixed
// byte arrays, no padding. Writers come in two kinds with one interface, so that each frame's
// layout is written once: SizeCounter measures, PayloadWriter writes in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace lbmail::proto {

constexpr size_t kMaxVarintBytes = 10;

inline size_t varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

class SizeCounter {
 public:
  void varint(uint64_t v) { size_ += varintSize(v); }
  void u8(uint8_t) { size_ += 1; }
  void bytes(std::string_view s) { size_ += varintSize(s.size()) + s.size(); }
  void fixed(std::span<const uint8_t> b) { size_ += b.size(); }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

// Writes into space the caller sized with SizeCounter.
class PayloadWriter {
 public:
  explicit PayloadWriter(uint8_t* out) : p_(out) {}
  void varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<uint8_t>(v);
  }
  void u8(uint8_t v) { *p_++ = v; }
  void bytes(std::string_view s) {
    varint(s.size());
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void fixed(std::span<const uint8_t> b) {
    if (!b.empty()) std::memcpy(p_, b.data(), b.size());
    p_ += b.size();
  }
  uint8_t* position() const { return p_; }

 private:
  uint8_t* p_;
};

// Reads a payload without copying: byte strings come back as views into it. The first failure
// sticks: every later read fails too, so a decoder checks ok() once at the end.
class PayloadReader {
 public:
  explicit PayloadReader(std::span<const uint8_t> in) : p_(in.data()), end_(in.data() + in.size()) {}

  uint64_t varint() {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail("truncated varint");
      uint8_t b = *p_++;
      // The tenth byte may carry only the top bit of a 64-bit value.
      if (shift == 63 && b > 1) return fail("varint overflows 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return fail("varint overflows 64 bits");
  }

  // A varint that must not exceed max (counts, codes, enums).
  uint64_t bounded(uint64_t max, const char* what) {
    uint64_t v = varint();
    if (v > max) return fail(what);
    return v;
  }

  uint8_t u8() {
    if (p_ == end_) return static_cast<uint8_t>(fail("truncated byte"));
    return *p_++;
  }

  std::string_view bytes(size_t max_len) {
    uint64_t n = varint();
    if (error_) return {};
    if (n > max_len) return fail("string longer than its limit"), std::string_view();
    if (n > static_cast<uint64_t>(end_ - p_)) return fail("string longer than the frame"), std::string_view();
    std::string_view s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return s;
  }

  std::span<const uint8_t> fixed(size_t n) {
    if (error_) return {};
    if (n > static_cast<size_t>(end_ - p_)) return fail("truncated fixed field"), std::span<const uint8_t>();
    std::span<const uint8_t> s(p_, n);
    p_ += n;
    return s;
  }

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool ok() const { return error_ == nullptr; }
  // True when everything was read without error and nothing is left over.
  bool finish() {
    if (ok() && p_ != end_) fail("trailing bytes after the last field");
    return ok();
  }
  const char* error() const { return error_; }
  uint64_t fail(const char* why) {
    if (!error_) error_ = why;
    p_ = end_;
    return 0;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const char* error_ = nullptr;
};

}  // namespace lbmail::proto
