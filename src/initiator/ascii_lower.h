// ASCII lower case for addresses and header names: locale-free (std::tolower on unsigned char
// in the "C" locale), so a UTF-8 byte is never changed.
#pragma once

#include <string>
#include <string_view>

namespace lbmail {

inline std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace lbmail
