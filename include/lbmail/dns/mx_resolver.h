// Where mail for a domain goes: MX lookup on the libuv loop (c-ares), hosts by preference with
// their addresses, cached by TTL, one query per name in flight, static routes that bypass DNS.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"

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

enum class LookupStatus : uint8_t {
  kOk,         // targets has at least one host with at least one address
  kTemporary,  // timeout, SERVFAIL, refused, no reachable address yet: try again later
  kPermanent,  // NXDOMAIN, RFC 7505 null MX, no MX and no address: bounce
};

struct MxTarget {
  std::string host;  // the MX host name ("" for a static route)
  uint16_t preference = 0;
  std::vector<SocketAddress> addresses;  // port already set; IPv4 first, then IPv6
};

struct MxAnswer {
  LookupStatus status = LookupStatus::kTemporary;
  std::string reason;  // why, when not kOk: "NXDOMAIN", "null MX (RFC 7505)", "timeout", ...
  std::vector<MxTarget> targets;  // ascending preference; equal preferences in random order
  bool from_cache = false;
  bool implicit_mx = false;  // no MX record: the domain's own A/AAAA (RFC 5321 section 5.1)
  bool static_route = false;
};

struct ResolverStats {
  uint64_t lookups = 0;        // resolve() calls, static routes and invalid names included
  uint64_t cache_hits = 0;     // answered from the cache alone
  uint64_t cache_misses = 0;   // needed DNS (coalesced ones included)
  uint64_t coalesced = 0;      // lookups that joined a lookup of the same domain in flight
  uint64_t queries_sent = 0;   // DNS queries (MX, A, AAAA) handed to c-ares
  uint64_t queued = 0;         // queries that waited for the in-flight cap
  uint64_t failures = 0;       // answers with status other than kOk
  uint64_t in_flight = 0;      // queries in c-ares now
  uint64_t waiting = 0;        // queries behind the cap now
};

class MxResolver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Done = std::function<void(const MxAnswer&)>;

  // clock defaults to steady_clock::now; tests inject one to expire TTLs.
  MxResolver(uv_loop_t* loop, ResolverConfig config, Clock clock = {});
  MxResolver(const MxResolver&) = delete;
  MxResolver& operator=(const MxResolver&) = delete;
  ~MxResolver();

  // "" or an error text (bad servers, c-ares init failure).
  std::string start();
  // domain is case-insensitive, with or without a trailing dot. done runs exactly once, on the
  // loop; from the cache, for a static route, or for a name that is not a valid domain
  // (kPermanent "invalid domain") it runs before resolve() returns. Never after close() has
  // been called; resolve() after close() drops done. start() must have succeeded.
  void resolve(std::string_view domain, Done done);
  // Cancels every lookup (their callbacks do not run) and closes the handles; done runs once
  // they are closed (at once when start() was never called). May be called from a Done.
  // The resolver may be destroyed from done, not before.
  void close(std::function<void()> done);

  const ResolverStats& stats() const { return stats_; }
  // (name, type) answers in the cache, expired ones not yet dropped included.
  size_t cacheSize() const;

 private:
  class Impl;
  ResolverStats stats_;  // before impl_, which counts into it
  std::unique_ptr<Impl> impl_;
};

}  // namespace lbmail::dns
