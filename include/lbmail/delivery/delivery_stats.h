// The delivery engine's counters and its view of one destination, for /status and metrics.
#pragma once

#include <cstdint>
#include <string>

#include "lbmail/core/socket_address.h"

namespace lbmail::delivery {

struct DeliveryEngineStats {
  uint64_t submitted = 0;
  uint64_t delivered = 0;
  uint64_t deferred = 0;
  uint64_t bounced = 0;
  uint64_t in_flight = 0;       // submitted, no result yet
  uint64_t queued = 0;          // waiting in destination queues now
  uint64_t connections_opened = 0;
  uint64_t connections_open = 0;
  uint64_t connection_failures = 0;  // connect or greeting failed
  uint64_t transactions_reused = 0;  // sent on a connection that had sent before
  uint64_t failovers = 0;            // moved on to the next MX host or address
  uint64_t backoffs = 0;             // destinations put in back-off
  uint64_t bytes_sent = 0;           // message bytes handed to connections
  uint64_t pools_retired = 0;         // idle destination pools closed and freed
  uint64_t destinations_refused = 0;  // addresses from DNS not dialled (loopback, private, ...)
  uint64_t tls_handshakes = 0;       // STARTTLS handshakes completed, resumed ones included
  uint64_t tls_resumed = 0;          // of those, resuming an earlier connection's session
  uint64_t tls_failures = 0;         // handshakes failed or timed out; TLS required, not offered or refused
  uint64_t tls_plain_fallbacks = 0;  // opportunistic destinations gone on in plain after a failed handshake
  uint64_t tls_policy_refusals = 0;   // messages deferred because no MX host could meet the TLS policy
  uint64_t site_refusals = 0;  // messages handed back unsent: their site suspended us, or the warm-up cap is reached
};

struct DestinationStatus {
  std::string source;  // "" when the system picks
  std::string site;    // the receiving site (shaping)
  SocketAddress destination;
  uint32_t connections = 0;
  uint32_t idle = 0;
  uint64_t queued = 0;
  uint64_t delivered = 0;  // transactions finished there
  bool backed_off = false;
};

}  // namespace lbmail::delivery
