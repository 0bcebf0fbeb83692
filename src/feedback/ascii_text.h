// ASCII helpers for the feedback readers: mail header names, media types and status codes are
// ASCII and case-insensitive (RFC 5322 section 1.2.2, RFC 2045 section 5.1).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "lbmail/core/ascii_case.h"

namespace lbmail::feedback {

inline bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isAsciiAlnum(char c) { return isAsciiDigit(c) || (asciiLower(c) >= 'a' && asciiLower(c) <= 'z'); }
inline bool isWhiteSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trimWhiteSpace(std::string_view s) {
  while (!s.empty() && isWhiteSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isWhiteSpace(s.back())) s.remove_suffix(1);
  return s;
}

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

inline bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// Whether needle (lowercase) occurs in s in any case.
inline bool containsIgnoreCase(std::string_view s, std::string_view needle) {
  if (needle.empty()) return true;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (asciiLower(s[i]) == needle[0] && startsWithIgnoreCase(s.substr(i), needle)) return true;
  }
  return false;
}

// The address inside angle brackets when there are any ("<a@b>" and "Name <a@b>"), otherwise
// the trimmed text.
inline std::string_view angleAddress(std::string_view s) {
  s = trimWhiteSpace(s);
  size_t open = s.find('<');
  if (open == std::string_view::npos) return s;
  size_t close = s.find('>', open + 1);
  if (close == std::string_view::npos) return trimWhiteSpace(s.substr(open + 1));
  return trimWhiteSpace(s.substr(open + 1, close - open - 1));
}

}  // namespace lbmail::feedback
