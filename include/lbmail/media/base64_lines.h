// The base64 body form of RFC 2045 section 6.8 as the cache stores it: lines of 76 characters
// (57 source octets), each ending in CRLF, the last one shorter and padded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace lbmail::media {

constexpr size_t kBase64LineOctets = 57;  // source octets per 76-character line

// Size of the encoded form of n source octets, CRLFs included.
size_t base64LinesSize(size_t n);

// Appends the encoded form of src to out. Split a long input at multiples of 57 octets and the
// pieces concatenate to the encoding of the whole.
void appendBase64Lines(std::span<const uint8_t> src, std::string& out);

// Appends plain base64 (no line breaks) of src to out: encoded words and similar small uses.
void appendBase64(std::string_view src, std::string& out);

// Decodes text that must be exactly what appendBase64Lines produces (full lines of 76, CRLF,
// padding only at the end). Returns a reason on any deviation, or null; out gets the octets.
const char* decodeBase64Lines(std::string_view text, std::string& out);

}  // namespace lbmail::media
