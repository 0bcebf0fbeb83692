// What an MX lookup says about a domain: its hosts by preference with their addresses, or why
// there are none. Shared by the resolver's facade and its internals.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"

namespace lbmail::dns {

enum class LookupStatus : uint8_t {
  kOk,         // targets has at least one host with at least one address
  kTemporary,  // timeout, SERVFAIL, refused, no reachable address yet: try again later
  kPermanent,  // NXDOMAIN, RFC 7505 null MX, no MX and no address: bounce
};

struct MxTarget {
  std::string host;  // the MX host name ("" for a static route)
  uint16_t preference = 0;
  std::vector<SocketAddress> addresses;  // port already set; IPv4 first, then IPv6
  // Every answer that gave addresses had the AD bit (RFC 7672 section 2.2.2: TLSA records are
  // looked up only for hosts whose addresses are secure).
  bool authenticated = false;
};

struct MxAnswer {
  LookupStatus status = LookupStatus::kTemporary;
  std::string reason;  // why, when not kOk: "NXDOMAIN", "null MX (RFC 7505)", "timeout", ...
  std::vector<MxTarget> targets;  // ascending preference; equal preferences in random order
  bool from_cache = false;
  bool implicit_mx = false;  // no MX record: the domain's own A/AAAA (RFC 5321 section 5.1)
  bool static_route = false;
  // The MX answer (or, for implicit MX, the answer that said there is none) had the AD bit:
  // the resolver validated it (RFC 6840 section 5.7, RFC 7672 section 2.2.1).
  bool authenticated = false;
};

// Receives one lookup's answer.
using MxDone = std::function<void(const MxAnswer&)>;

}  // namespace lbmail::dns
