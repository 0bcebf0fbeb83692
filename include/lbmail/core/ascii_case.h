// ASCII case folding for protocol text (domains, addresses, header names, tokens): locale-free,
// so a UTF-8 byte is never changed (RFC 4343: DNS case is ASCII only). std::tolower depends on
// the locale; these do not.
#pragma once

#include <string>
#include <string_view>

namespace lbmail {

inline char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string asciiLowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = asciiLower(c);
  return out;
}

}  // namespace lbmail
