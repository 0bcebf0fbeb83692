// RFC 4648 base32, lowercase, no padding.
#include "base32.h"

namespace lbmail::feedback {
namespace {

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

// The 5-bit value of c in either case, or -1.
int valueOf(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

void appendBase32(std::span<const uint8_t> bytes, std::string& out) {
  size_t at = out.size();
  out.resize(at + base32Chars(bytes.size()));
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[at++] = kAlphabet[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out[at++] = kAlphabet[(buffer << (5 - bits)) & 31];
}

bool decodeBase32(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != base32Chars(out.size())) return false;
  uint32_t buffer = 0;
  int bits = 0;
  size_t at = 0;
  for (char c : text) {
    int v = valueOf(c);
    if (v < 0) return false;
    buffer = ((buffer << 5) | static_cast<uint32_t>(v)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = static_cast<uint8_t>(buffer >> bits);
    }
  }
  return (buffer & ((1u << bits) - 1)) == 0;
}

}  // namespace lbmail::feedback
