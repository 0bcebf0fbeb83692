// The [dns] table: resolver limits, timeouts, cache bounds and static routes.
#include "lbmail/dns/resolver_config.h"

#include <algorithm>

#include "lbmail/core/config_document.h"
#include "lbmail/dns/domain_name.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;

void readRoutes(ConfigTable& t, ResolverConfig& c) {
  for (ConfigTable& route : t.tableArray("route")) {
    std::optional<std::string> text = route.optionalString("domain");
    if (!text) route.fail("domain", "a domain name like \"example.com\"");
    std::optional<std::string> domain = normalizeDomain(*text);
    if (!domain) route.fail("domain", "a domain name like \"example.com\" (letters, digits, '-', '_')");
    bool duplicate = std::any_of(c.static_routes.begin(), c.static_routes.end(),
                                 [&](const auto& r) { return r.first == *domain; });
    if (duplicate) route.fail("domain", "a domain that has no other route");
    if (!route.has("addresses")) route.fail("addresses", "the addresses to send to, like [\"127.0.0.1:2525\"]");
    c.static_routes.emplace_back(std::move(*domain), route.addressList("addresses", {}));
  }
}

}  // namespace

ResolverConfig readResolverConfig(ConfigTable& t) {
  ResolverConfig c;
  c.servers = t.addressList("servers", {});
  c.query_timeout = t.duration("query_timeout", c.query_timeout, 10ms, 60s);
  c.query_tries = static_cast<uint32_t>(t.integer("query_tries", c.query_tries, 1, 10));
  c.max_in_flight = static_cast<uint32_t>(t.integer("max_in_flight", c.max_in_flight, 1, 10'000));
  c.negative_ttl_max = t.duration("negative_ttl_max", c.negative_ttl_max, 0s, 24h);
  c.temporary_failure_ttl = t.duration("temporary_failure_ttl", c.temporary_failure_ttl, 0s, 1h);
  c.min_ttl = t.duration("min_ttl", c.min_ttl, 0s, 24h);
  c.max_ttl = t.duration("max_ttl", c.max_ttl, 1s, 24h * 7);
  if (c.max_ttl < c.min_ttl) t.fail("max_ttl", "a duration not below min_ttl");
  c.max_mx_hosts = static_cast<uint32_t>(t.integer("max_mx_hosts", c.max_mx_hosts, 1, 64));
  c.max_cache_entries = static_cast<size_t>(t.integer("max_cache_entries", 100'000, 0, 10'000'000));
  readRoutes(t, c);
  return c;
}

}  // namespace lbmail::dns
