// Reading the gateway's configuration.
#include "gateway_config.h"

#include <algorithm>

#include "lbmail/core/config_path.h"
#include "lbmail/dns/resolver_config.h"

namespace lbmail {
namespace {

// Paths (the key, the media cache) are relative to the file's folder, as the initiator's are.
GatewaySettings readGateway(ConfigTable t, const std::string& config_file) {
  using namespace std::chrono_literals;
  GatewaySettings g;
  g.listen = t.address("listen", g.listen);
  g.credentials = proto::readLinkCredentials(t, config_file);
  for (const std::string& ip : t.stringArray("allowed_initiators")) {
    if (!SocketAddress::parse(ip + ":0") && !SocketAddress::parse("[" + ip + "]:0")) {
      t.fail("allowed_initiators", "IP addresses such as \"127.0.0.1\"");
    }
    g.allowed_initiators.push_back(ip);
  }
  g.max_links = static_cast<uint32_t>(t.integer("max_links", g.max_links, 1, 100000));
  g.max_handshakes = static_cast<uint32_t>(t.integer("max_handshakes", g.max_handshakes, 1, 100000));
  g.max_handshakes_per_address = static_cast<uint32_t>(t.integer(
      "max_handshakes_per_address", std::min(g.max_handshakes_per_address, g.max_handshakes), 1, g.max_handshakes));
  g.handshake_timeout = t.duration("handshake_timeout", g.handshake_timeout, 100ms, 5min);
  g.capacity = static_cast<uint32_t>(t.integer("capacity", g.capacity, 1, 10'000'000));
  g.media_cache = resolveConfigPath(config_file, t.string("media_cache", ""));
  g.drain_timeout = t.duration("drain_timeout", g.drain_timeout, 0s, 1h);
  g.heartbeat_interval = t.duration("heartbeat_interval", g.heartbeat_interval, 10ms, 1min);
  g.heartbeat_timeout = t.duration("heartbeat_timeout", g.heartbeat_timeout, 50ms, 10min);
  if (g.heartbeat_timeout <= g.heartbeat_interval) {
    t.fail("heartbeat_timeout", "a duration longer than heartbeat_interval");
  }
  return g;
}

}  // namespace

Expected<GatewayConfig, std::string> loadGatewayConfig(const std::string& file) {
  return loadConfigFile<GatewayConfig>(file, [&file](ConfigTable& root) {
    GatewayConfig c;
    c.service = readServiceConfig(root, Mode::kGateway);
    c.gateway = readGateway(root.table("gateway"), file);
    ConfigTable smtp = root.table("smtp");
    c.smtp = delivery::readDeliveryConfig(smtp, file);
    ConfigTable dns = root.table("dns");
    c.dns = dns::readResolverConfig(dns);
    // Hosts found through DNS are reached on the [smtp] port (25 unless a test says otherwise).
    c.dns.smtp_port = c.smtp.port;
    // Keys are read and checked here: a bad key is a configuration error (--check-config too).
    c.dkim = dkim::readDkimConfig(root.table("dkim"), file);
    ConfigTable shaping = root.table("shaping");
    c.shaping = shaping::readShapingConfig(shaping, file);
    c.feedback = readFeedbackConfig(root.table("feedback"), file, c.service.node_name);
    return c;
  });
}

}  // namespace lbmail
