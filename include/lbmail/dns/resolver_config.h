// Reading the resolver's settings and static routes from a configuration's [dns] table.
#pragma once

#include "lbmail/core/config_document.h"
#include "lbmail/dns/mx_resolver.h"

namespace lbmail::dns {

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
