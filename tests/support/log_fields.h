// Reading fields back out of lbmail's key=value log lines in tests.
#pragma once

#include <optional>
#include <string>

#include "lbmail/core/socket_address.h"

namespace lbmail::test {

// The address in a line's addr=... field ("event=admin.listening addr=127.0.0.1:41234").
inline std::optional<SocketAddress> addrField(const std::string& line) {
  size_t at = line.find(" addr=");
  if (at == std::string::npos) return std::nullopt;
  size_t end = line.find(' ', at + 6);
  return SocketAddress::parse(line.substr(at + 6, end == std::string::npos ? end : end - at - 6));
}

}  // namespace lbmail::test
