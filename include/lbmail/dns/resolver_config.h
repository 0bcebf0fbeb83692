// The resolver's settings and static routes, and their reading from a configuration's [dns]
// table.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"

namespace lbmail {
class ConfigTable;
}  // namespace lbmail

namespace lbmail::dns {

// Static routes and resolver settings; the gateway reads them from its [dns] table.
struct ResolverConfig {
  // "host:port" of the DNS servers; empty uses the system's resolv.conf.
  std::vector<SocketAddress> servers;
  // Port given to addresses found through DNS (MX hosts and implicit MX); 25 on the Internet,
  // an unprivileged port in tests and the simulation.
  uint16_t smtp_port = 25;
  Duration query_timeout = std::chrono::seconds(5);  // first try; c-ares doubles it per later round
  uint32_t query_tries = 2;
  uint32_t max_in_flight = 256;                      // queries; more wait in a queue
  Duration negative_ttl_max = std::chrono::minutes(5);  // NXDOMAIN / no data cached at most this long
  Duration temporary_failure_ttl = std::chrono::seconds(10);  // SERVFAIL/timeout remembered this long
  Duration min_ttl = std::chrono::seconds(0);        // positive answers cached at least this long
  Duration max_ttl = std::chrono::hours(24);         // ... and at most this long
  uint32_t max_mx_hosts = 10;                        // MX hosts kept per domain, best preferences first
  size_t max_cache_entries = 100000;                 // (name, type) answers kept; soonest to expire go first
  // domain (lower case) -> addresses tried in order, bypassing DNS (smart hosts, tests).
  std::vector<std::pair<std::string, std::vector<SocketAddress>>> static_routes;
};

// The time TTLs are measured against: steady_clock::now unless a test injects its own.
using ResolverClock = std::function<std::chrono::steady_clock::time_point()>;

// t is the [dns] table (absent gives every default):
//
//   [dns]
//   servers = ["127.0.0.1:5353"]     # "host:port" list; absent: /etc/resolv.conf
//   query_timeout = "5s"             # first try; doubled for each later one
//   query_tries = 2
//   max_in_flight = 256              # queries in c-ares; more wait in a queue
//   negative_ttl_max = "5m"          # NXDOMAIN / no data cached at most this long
//   temporary_failure_ttl = "10s"    # SERVFAIL / timeout remembered this long
//   min_ttl = "0s"                   # positive answers cached at least ...
//   max_ttl = "1d"                   # ... and at most this long
//   max_mx_hosts = 10
//   max_cache_entries = 100000
//
//   [[dns.route]]                    # bypasses DNS for one domain (smart host, tests)
//   domain = "example.com"
//   addresses = ["127.0.0.1:2525", "127.0.0.2:2525"]
//
// Routes are an array of tables, not a table keyed by domain: a bare key with dots
// (example.com = [...]) is a nested table in TOML, so every domain would need quoting.
// smtp_port is left at its default: the caller sets it from its [smtp] table.
// Throws ConfigError (inside loadConfigFile) naming the key and what was expected.
ResolverConfig readResolverConfig(ConfigTable& t);

}  // namespace lbmail::dns
