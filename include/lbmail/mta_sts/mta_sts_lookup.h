// What an MTA-STS lookup says about a domain, and the resolver's counters. Shared by the
// resolver's facade and its internals.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "lbmail/mta_sts/mta_sts_policy.h"

namespace lbmail::mta_sts {

struct MtaStsLookup {
  // The policy to apply, fetched now or cached; null when the domain has none that can be
  // had (no record, or a fetch that failed with nothing valid cached: RFC 8461 section 3.3).
  std::shared_ptr<const MtaStsPolicy> policy;
  // Where the policy came from or why there is none, for logs and delivery results:
  // "fetched id=...", "cached id=...", "no MTA-STS record: NXDOMAIN", "policy fetch failed: ...".
  std::string note;
};

using MtaStsDone = std::function<void(const MtaStsLookup&)>;

struct MtaStsStats {
  uint64_t lookups = 0;
  uint64_t joined = 0;          // lookups that waited on one already in flight for the domain
  uint64_t cache_hits = 0;      // the record's id was the cached policy's
  uint64_t fetches = 0;         // HTTPS fetches started (address lookup included)
  uint64_t fetch_failures = 0;  // no address, no connection, refused response or policy
};

}  // namespace lbmail::mta_sts
