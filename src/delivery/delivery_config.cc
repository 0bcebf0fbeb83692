// Reading the delivery engine's configuration.
#include "lbmail/delivery/delivery_config.h"

#include <unistd.h>

#include "lbmail/core/config_path.h"
#include "lbmail/dns/domain_name.h"

namespace lbmail::delivery {
namespace {

using namespace std::chrono_literals;

DestinationLimits readLimits(ConfigTable& t, const DestinationLimits& base) {
  DestinationLimits l = base;
  l.max_connections = static_cast<uint32_t>(t.integer("max_connections", l.max_connections, 1, 100'000));
  l.max_new_connections_per_second =
      t.real("max_new_connections_per_second", l.max_new_connections_per_second, 0, 1e6);
  l.max_messages_per_second = t.real("max_messages_per_second", l.max_messages_per_second, 0, 1e9);
  l.max_messages_per_connection =
      static_cast<uint32_t>(t.integer("max_messages_per_connection", l.max_messages_per_connection, 1, 100'000'000));
  return l;
}

SocketAddress readSource(ConfigTable& t, const std::string& text) {
  std::optional<SocketAddress> a = SocketAddress::parse(text + ":0");
  if (!a) a = SocketAddress::parse("[" + text + "]:0");
  if (!a) t.fail("source_addresses", "IP addresses such as \"127.0.0.2\" or \"::1\"");
  return *a;
}

TlsPolicy readTlsPolicy(ConfigTable& t, TlsPolicy fallback) {
  std::string name = t.string("tls_policy", tlsPolicyName(fallback));
  std::optional<TlsPolicy> p = parseTlsPolicy(name);
  if (!p) t.fail("tls_policy", "one of \"none\", \"opportunistic\", \"encrypt\", \"verify\", \"dane\", \"mta-sts\"");
  return *p;
}

TlsConfig readTlsConfig(ConfigTable& t, const std::string& config_file) {
  using namespace std::chrono_literals;
  TlsConfig c;
  c.policy = readTlsPolicy(t, c.policy);
  c.ca_file = resolveConfigPath(config_file, t.string("tls_ca_file", ""));
  // Checked now: a CA file that cannot be read would fail every verified delivery later.
  if (!c.ca_file.empty() && access(c.ca_file.c_str(), R_OK) != 0) t.fail("tls_ca_file", "a readable PEM file");
  c.mta_sts_port = static_cast<uint16_t>(t.integer("mta_sts_port", c.mta_sts_port, 1, 65535));
  c.mta_sts_fetch_timeout = t.duration("mta_sts_fetch_timeout", c.mta_sts_fetch_timeout, 100ms, 5min);
  return c;
}

}  // namespace

TlsPolicy TlsConfig::policyFor(const std::string& domain) const {
  for (const auto& [name, p] : domain_policies) {
    if (name == domain) return p;
  }
  return policy;
}

DeliveryConfig readDeliveryConfig(ConfigTable& t, const std::string& config_file) {
  DeliveryConfig c;
  for (const std::string& s : t.stringArray("source_addresses")) c.sources.push_back(readSource(t, s));
  c.port = static_cast<uint16_t>(t.integer("port", 25, 1, 65535));
  c.allow_private_destinations = t.boolean("allow_private_destinations", c.allow_private_destinations);
  SmtpClientSettings& s = c.client;
  s.helo_name = t.string("helo_name", s.helo_name);
  if (s.helo_name.empty() || s.helo_name.find_first_of(" \t\r\n<>") != std::string::npos) {
    t.fail("helo_name", "a host name without blanks");
  }
  s.connect_timeout = t.duration("connect_timeout", s.connect_timeout, 1ms, 1h);
  s.greeting_timeout = t.duration("greeting_timeout", s.greeting_timeout, 1ms, 1h);
  s.mail_timeout = t.duration("mail_timeout", s.mail_timeout, 1ms, 1h);
  s.rcpt_timeout = t.duration("rcpt_timeout", s.rcpt_timeout, 1ms, 1h);
  s.data_init_timeout = t.duration("data_init_timeout", s.data_init_timeout, 1ms, 1h);
  s.data_block_timeout = t.duration("data_block_timeout", s.data_block_timeout, 1ms, 1h);
  s.data_end_timeout = t.duration("data_end_timeout", s.data_end_timeout, 1ms, 1h);
  s.starttls_timeout = t.duration("starttls_timeout", s.starttls_timeout, 1ms, 1h);
  s.idle_timeout = t.duration("idle_timeout", s.idle_timeout, 1ms, 1h);
  s.pipelining = t.boolean("pipelining", s.pipelining);
  s.chunking = t.boolean("chunking", s.chunking);
  c.tls = readTlsConfig(t, config_file);
  c.limits = readLimits(t, c.limits);
  c.backoff = t.duration("backoff", c.backoff, 0s, 24h);
  for (ConfigTable& d : t.tableArray("domain")) {
    std::optional<std::string> name = dns::normalizeDomain(d.string("name", ""));
    if (!name) d.fail("name", "a domain name like \"example.com\"");
    c.domain_limits.emplace_back(*name, readLimits(d, c.limits));
    if (d.has("tls_policy")) c.tls.domain_policies.emplace_back(std::move(*name), readTlsPolicy(d, c.tls.policy));
  }
  return c;
}

}  // namespace lbmail::delivery
