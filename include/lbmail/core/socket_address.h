// An IPv4 or IPv6 address with a port, parsed from "host:port" or "[v6]:port".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lbmail {

class SocketAddress {
 public:
  SocketAddress();

  // Accepts IP literals only ("127.0.0.1:9101", "[::1]:25"): configuration must not
  // depend on name resolution at start-up.
  static std::optional<SocketAddress> parse(std::string_view text);
  static SocketAddress fromSockaddr(const sockaddr* sa);

  const sockaddr* sockaddrPtr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const;
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  std::string host() const;
  std::string toString() const;  // "127.0.0.1:9101" or "[::1]:25"

 private:
  sockaddr_storage storage_;
};

}  // namespace lbmail
