// EHLO keyword parsing.
#include "lbmail/smtp/smtp_capabilities.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace lbmail::smtp {
namespace {

std::string upperWord(std::string_view line) {
  std::string word;
  for (char c : line) {
    if (c == ' ') break;
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return word;
}

}  // namespace

ServerCapabilities parseCapabilities(const SmtpReply& ehlo) {
  ServerCapabilities caps;
  caps.esmtp = true;
  std::string_view text = ehlo.text;
  size_t nl = text.find('\n');
  // The first line names the server; keywords follow, one a line.
  while (nl != std::string_view::npos) {
    text.remove_prefix(nl + 1);
    nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    std::string word = upperWord(line);
    if (word == "PIPELINING") {
      caps.pipelining = true;
    } else if (word == "CHUNKING") {
      caps.chunking = true;
    } else if (word == "ENHANCEDSTATUSCODES") {
      caps.enhanced_status_codes = true;
    } else if (word == "STARTTLS") {
      caps.starttls = true;
    } else if (word == "SIZE") {
      caps.size_declared = true;
      uint64_t limit = 0;
      for (char c : line.substr(std::min(line.size(), size_t{5}))) {
        if (c < '0' || c > '9' || limit > UINT64_MAX / 10 - 10) break;
        limit = limit * 10 + static_cast<uint64_t>(c - '0');
      }
      caps.size_limit = limit;
    }
  }
  return caps;
}

}  // namespace lbmail::smtp
