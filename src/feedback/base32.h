// RFC 4648 section 6 base32 without padding, written in lowercase: the feedback tokens' text form.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace lbmail::feedback {

constexpr size_t base32Chars(size_t bytes) { return (bytes * 8 + 4) / 5; }

// Appends the encoding of bytes to out: one resize of out, nothing else allocated.
void appendBase32(std::span<const uint8_t> bytes, std::string& out);

// Decodes text (either case) into exactly out.size() bytes. False when text is not
// base32Chars(out.size()) characters of the alphabet, or when the unused low bits of its last
// character are not zero: each byte string then has exactly one spelling (less case).
bool decodeBase32(std::string_view text, std::span<uint8_t> out);

}  // namespace lbmail::feedback
