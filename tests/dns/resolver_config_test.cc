// Tests of reading the [dns] table.
#include "lbmail/dns/resolver_config.h"

#include <gtest/gtest.h>

#include "lbmail/core/config_document.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;

// What loadConfigFile does, over a string: read [dns], then refuse keys nobody asked for.
Expected<ResolverConfig, std::string> readText(const std::string& text) {
  auto doc = ConfigDocument::parseString(text, "gateway.toml");
  if (!doc) return unexpected(doc.error());
  try {
    ConfigTable root = doc->root();
    ConfigTable dns = root.table("dns");
    ResolverConfig c = readResolverConfig(dns);
    doc->rejectUnknownKeys();
    return c;
  } catch (const ConfigError& e) {
    return unexpected(std::string(e.what()));
  }
}

void expectError(const std::string& text, const std::string& needle) {
  auto c = readText(text);
  ASSERT_FALSE(c) << "accepted: " << text;
  EXPECT_NE(c.error().find(needle), std::string::npos) << c.error();
}

TEST(ResolverConfig, AbsentTableGivesTheDefaults) {
  auto c = readText("");
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->servers.empty());
  EXPECT_EQ(c->query_timeout, Duration(5s));
  EXPECT_EQ(c->query_tries, 2u);
  EXPECT_EQ(c->max_in_flight, 256u);
  EXPECT_EQ(c->smtp_port, 25);
  EXPECT_TRUE(c->static_routes.empty());
}

TEST(ResolverConfig, ReadsEveryKeyAndTheRoutes) {
  auto c = readText(R"([dns]
servers = ["127.0.0.1:5353", "[::1]:53"]
query_timeout = "250ms"
query_tries = 3
max_in_flight = 32
negative_ttl_max = "1m"
temporary_failure_ttl = "2s"
min_ttl = "5s"
max_ttl = "1h"
max_mx_hosts = 4
max_cache_entries = 1000

[[dns.route]]
domain = "Smart.Example."
addresses = ["127.0.0.1:2525", "127.0.0.2:2525"]

[[dns.route]]
domain = "other.test"
addresses = "[::1]:2526"
)");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->servers.size(), 2u);
  EXPECT_EQ(c->servers[1].toString(), "[::1]:53");
  EXPECT_EQ(c->query_timeout, Duration(250ms));
  EXPECT_EQ(c->query_tries, 3u);
  EXPECT_EQ(c->max_in_flight, 32u);
  EXPECT_EQ(c->negative_ttl_max, Duration(1min));
  EXPECT_EQ(c->temporary_failure_ttl, Duration(2s));
  EXPECT_EQ(c->min_ttl, Duration(5s));
  EXPECT_EQ(c->max_ttl, Duration(1h));
  EXPECT_EQ(c->max_mx_hosts, 4u);
  EXPECT_EQ(c->max_cache_entries, 1000u);
  ASSERT_EQ(c->static_routes.size(), 2u);
  EXPECT_EQ(c->static_routes[0].first, "smart.example");
  ASSERT_EQ(c->static_routes[0].second.size(), 2u);
  EXPECT_EQ(c->static_routes[0].second[1].toString(), "127.0.0.2:2525");
  EXPECT_EQ(c->static_routes[1].first, "other.test");
  EXPECT_EQ(c->static_routes[1].second[0].toString(), "[::1]:2526");
}

TEST(ResolverConfig, BadValuesNameTheirKey) {
  expectError("[dns]\nservers = [\"dns.example:53\"]\n", "dns.servers: expected an IP address and port");
  expectError("[dns]\nservers = []\n", "dns.servers: expected");
  expectError("[dns]\nquery_timeout = \"5\"\n", "dns.query_timeout: expected a duration");
  expectError("[dns]\nquery_tries = 0\n", "dns.query_tries: expected an integer from 1 to 10");
  expectError("[dns]\nmax_in_flight = 0\n", "dns.max_in_flight");
  expectError("[dns]\nmin_ttl = \"2h\"\nmax_ttl = \"1h\"\n", "dns.max_ttl: expected a duration not below min_ttl");
  expectError("[dns]\nmax_tll = \"1h\"\n", "dns.max_tll: unknown key (did you mean 'max_ttl'?)");
}

TEST(ResolverConfig, BadRoutesAreRefused) {
  expectError("[[dns.route]]\naddresses = [\"127.0.0.1:25\"]\n", "dns.route.domain: expected a domain name");
  expectError("[[dns.route]]\ndomain = \"bad domain\"\naddresses = [\"127.0.0.1:25\"]\n",
              "dns.route.domain: expected a domain name");
  expectError("[[dns.route]]\ndomain = \"a.test\"\n", "dns.route.addresses: expected the addresses");
  expectError("[[dns.route]]\ndomain = \"a.test\"\naddresses = [\"mx.a.test:25\"]\n",
              "dns.route.addresses: expected an IP address and port");
  expectError("[[dns.route]]\ndomain = \"a.test\"\naddresses = \"127.0.0.1:25\"\n"
              "[[dns.route]]\ndomain = \"A.test\"\naddresses = \"127.0.0.1:26\"\n",
              "dns.route.domain: expected a domain that has no other route");
  expectError("[[dns.route]]\ndomain = \"a.test\"\naddresses = \"127.0.0.1:25\"\nport = 25\n",
              "dns.route.port: unknown key");
}

}  // namespace
}  // namespace lbmail::dns
