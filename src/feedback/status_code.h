// RFC 3463 enhanced status codes ("5.1.1") and RFC 5321 reply codes ("550") as they appear in
// DSN fields and bounce text.
#pragma once

#include <cstddef>
#include <string_view>

#include "ascii_text.h"

namespace lbmail::feedback {

// The length of the enhanced status code that starts s (class "2", "4" or "5", then "." 1 to 3
// digits, twice, RFC 3463 section 2), or 0. A code must not run on into more digits, letters
// or ".digit" (an IP address such as 5.6.7.8 is none).
inline size_t enhancedCodeLength(std::string_view s) {
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return 0;
  size_t i = 2;
  for (int group = 0; group < 2; ++group) {
    size_t start = i;
    while (i < s.size() && i - start < 4 && isAsciiDigit(s[i])) ++i;
    if (i == start || i - start > 3) return 0;
    if (group == 0) {
      if (i >= s.size() || s[i] != '.') return 0;
      ++i;
    }
  }
  if (i < s.size() && (isAsciiAlnum(s[i]) || (s[i] == '.' && i + 1 < s.size() && isAsciiDigit(s[i + 1])))) return 0;
  return i;
}

// Whether s starts with a 4yz or 5yz reply code followed by a space, '-' or nothing (RFC 5321
// section 4.2).
inline bool failureReplyCodeAt(std::string_view s) {
  if (s.size() < 3 || (s[0] != '4' && s[0] != '5') || s[1] < '0' || s[1] > '5' || !isAsciiDigit(s[2])) return false;
  return s.size() == 3 || s[3] == ' ' || s[3] == '-' || s[3] == '\t';
}

}  // namespace lbmail::feedback
