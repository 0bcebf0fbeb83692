// The resolver's counters, kept by its internals and read through the facade.
#pragma once

#include <cstdint>

namespace lbmail::dns {

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

}  // namespace lbmail::dns
