// Character classes and trimming shared by the MTA-STS record and policy grammars (RFC 8461
// sections 3.1 and 3.2 use the same ABNF core rules and the same field-name rule).
#pragma once

#include <string_view>

namespace lbmail::mta_sts {

inline bool isWsp(char c) { return c == ' ' || c == '\t'; }

inline bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

inline std::string_view trimWsp(std::string_view s) {
  while (!s.empty() && isWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && isWsp(s.back())) s.remove_suffix(1);
  return s;
}

// sts-ext-name and sts-policy-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
inline bool fieldName(std::string_view name) {
  if (name.empty() || name.size() > 32 || !isAlnum(name.front())) return false;
  for (char c : name) {
    if (!isAlnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace lbmail::mta_sts
