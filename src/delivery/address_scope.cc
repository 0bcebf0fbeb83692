// The special-purpose address ranges of the IANA registries (RFC 6890) a mail destination
// found through DNS must not be in.
#include "address_scope.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace lbmail::delivery {
namespace {

struct Range4 {
  uint32_t prefix;
  int bits;
  std::string_view kind;
};

// IPv4: RFC 6890's table, and RFC 5737 documentation, RFC 2544 benchmarking.
constexpr Range4 kRanges4[] = {
    {0x00000000, 8, "unspecified (0.0.0.0/8)"},
    {0x0a000000, 8, "private (RFC 1918)"},
    {0x64400000, 10, "shared (RFC 6598, carrier-grade NAT)"},
    {0x7f000000, 8, "loopback"},
    {0xa9fe0000, 16, "link-local"},
    {0xac100000, 12, "private (RFC 1918)"},
    {0xc0000000, 24, "IETF protocol assignments (RFC 6890)"},
    {0xc0000200, 24, "documentation (RFC 5737)"},
    {0xc0a80000, 16, "private (RFC 1918)"},
    {0xc6120000, 15, "benchmarking (RFC 2544)"},
    {0xc6336400, 24, "documentation (RFC 5737)"},
    {0xcb007100, 24, "documentation (RFC 5737)"},
    {0xe0000000, 4, "multicast"},
    {0xf0000000, 4, "reserved (240.0.0.0/4, broadcast)"},
};

std::string_view range4(uint32_t ip) {
  for (const Range4& r : kRanges4) {
    uint32_t mask = ~uint32_t{0} << (32 - r.bits);
    if ((ip & mask) == r.prefix) return r.kind;
  }
  return "";
}

uint32_t v4At(const uint8_t* b) {
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

bool startsWith(const uint8_t* b, std::initializer_list<uint8_t> prefix) {
  return std::memcmp(b, prefix.begin(), prefix.size()) == 0;
}

std::string_view range6(const uint8_t* b) {
  static constexpr uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0) return b[15] == 0 ? "unspecified" : b[15] == 1 ? "loopback" : "reserved (::/96)";
  // ::ffff:0:0/96 (RFC 4291 section 2.5.5.2) and NAT64's 64:ff9b::/96 (RFC 6052) carry an
  // IPv4 address a connection would reach.
  if (startsWith(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||
      startsWith(b, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return range4(v4At(b + 12));
  }
  if (std::memcmp(b, kZero, 12) == 0) return "reserved (::/96)";
  if ((b[0] & 0xfe) == 0xfc) return "unique local (RFC 4193)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local (deprecated, RFC 3879)";
  if (b[0] == 0xff) return "multicast";
  if (startsWith(b, {0x20, 0x01, 0x0d, 0xb8})) return "documentation (RFC 3849)";
  return "";
}

}  // namespace

std::string_view nonPublicRange(const SocketAddress& address) {
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address.sockaddrPtr());
    return range4(ntohl(in->sin_addr.s_addr));
  }
  if (address.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address.sockaddrPtr());
    return range6(in6->sin6_addr.s6_addr);
  }
  return "not an IP address";
}

}  // namespace lbmail::delivery
