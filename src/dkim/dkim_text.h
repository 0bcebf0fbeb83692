// Small text helpers the DKIM sources share (private to src/dkim).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lbmail/core/ascii_case.h"

namespace lbmail::dkim {

// WSP: SP or HTAB (RFC 5234 B.1), the whitespace of header folding and canonicalization.
inline bool isWsp(char c) { return c == ' ' || c == '\t'; }

// ASCII lowercase whatever the locale (lbmail/core/ascii_case.h): header field names and DNS
// names compare case-insensitively in ASCII only (RFC 5322 1.2.2, RFC 4343).

// Plain base64 (RFC 4648 4, no line breaks) of n bytes: b=, bh= and p= values.
std::string base64(const void* bytes, size_t n);

}  // namespace lbmail::dkim
