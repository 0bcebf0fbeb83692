// What the MTA-STS resolver is configured with ([smtp] mta_sts_* keys, read by the engine).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "lbmail/core/socket_address.h"

namespace lbmail::mta_sts {

struct MtaStsSettings {
  // PEM certificates trusted for policy hosts besides the system store ("" for none).
  std::string ca_file;
  // RFC 8461 section 3.3 suggests one minute for the whole HTTPS GET.
  std::chrono::milliseconds fetch_timeout{std::chrono::minutes(1)};
  // The policy host's HTTPS port: 443 on the Internet, a free port in tests.
  uint16_t port = 443;
  // Domains whose policy is kept; the soonest to expire make room.
  size_t max_cached = 10000;
  // After a failed fetch, lookups that find the same record id answer from that failure
  // instead of fetching again for this long (RFC 8461 section 3.3 lets senders rate-limit).
  std::chrono::milliseconds failure_ttl{std::chrono::minutes(5)};
  // "" when the policy host may be fetched from address, else why not: a recipient domain
  // must not point the gateway at its own network (loopback, private ranges, metadata
  // services). Empty function: every address may.
  std::function<std::string(const SocketAddress& address)> address_refusal;
};

}  // namespace lbmail::mta_sts
