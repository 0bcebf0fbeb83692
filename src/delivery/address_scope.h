// Which addresses a destination found through DNS may have: the public Internet only, unless
// the operator allows the rest (loopback, private, link-local, ...), so that a recipient
// domain's MX cannot point the gateway at a service on its own host or network.
#pragma once

#include <string_view>

#include "lbmail/core/socket_address.h"

namespace lbmail::delivery {

// "" for a public unicast address; else the kind of range it lies in ("loopback",
// "private (RFC 1918)", "multicast", ...). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) and a
// NAT64 one (64:ff9b::a.b.c.d) are judged by the IPv4 address inside.
std::string_view nonPublicRange(const SocketAddress& address);

}  // namespace lbmail::delivery
