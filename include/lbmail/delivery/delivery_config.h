// How the delivery engine sends: source addresses, SMTP client settings, per-destination
// limits with per-domain overrides, back-off. The gateway reads it from its [smtp] table.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lbmail/core/config_document.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/delivery/tls_policy.h"
#include "lbmail/smtp/smtp_client_settings.h"

namespace lbmail::delivery {

using smtp::SmtpClientSettings;

// Limits on one destination, a (source address, receiver IP:port) pair.
struct DestinationLimits {
  uint32_t max_connections = 20;           // Postfix's default_destination_concurrency_limit
  double max_new_connections_per_second = 0;  // 0: no limit
  double max_messages_per_second = 0;         // 0: no limit
  uint32_t max_messages_per_connection = 1000;
};

// How outgoing connections use TLS (docs/tls.md): a policy per destination domain with a
// default, and what verifying needs.
struct TlsConfig {
  TlsPolicy policy = TlsPolicy::kOpportunistic;  // Postfix's "may", KumoMTA's default
  // domain (lower case) -> its policy, from [[smtp.domain]] tls_policy.
  std::vector<std::pair<std::string, TlsPolicy>> domain_policies;
  // PEM certificates trusted besides the system's store (a private CA); "" for none.
  std::string ca_file;
  // RFC 8461 fixes 443; tests and private set-ups point it elsewhere.
  uint16_t mta_sts_port = 443;
  Duration mta_sts_fetch_timeout = std::chrono::minutes(1);  // RFC 8461 section 3.3 suggests one minute

  TlsPolicy policyFor(const std::string& domain) const;
};

struct DeliveryConfig {
  // Local addresses SMTP connections bind to (port 0); a domain always leaves from the same
  // one. Empty: the system picks.
  std::vector<SocketAddress> sources;
  uint16_t port = 25;  // destination port for hosts found through DNS
  // Hosts found through DNS may have loopback, private (RFC 1918, RFC 4193), link-local,
  // unspecified, multicast and other non-public addresses. Off: such an address is not
  // dialled, and a domain with no other is bounced. Static routes are never checked.
  bool allow_private_destinations = false;
  SmtpClientSettings client;
  TlsConfig tls;
  DestinationLimits limits;
  // domain (lower case) -> limits for the destinations its mail goes to. When several domains
  // share a destination, the first one to use it sets them.
  std::vector<std::pair<std::string, DestinationLimits>> domain_limits;
  // A destination that refused a connection, failed its greeting or said 421 is skipped this
  // long; its queued messages move to the next MX at once.
  Duration backoff = std::chrono::seconds(30);
  // A destination with no connection, nothing queued and no back-off is forgotten after this
  // long, and at once beyond max_idle_pools such ones (the longest idle first), so that the
  // pools of a campaign's many domains do not stay for the life of the gateway. Not keys of
  // [smtp]: tests shorten them.
  Duration pool_idle_timeout = std::chrono::seconds(60);
  size_t max_idle_pools = 1000;
};

// Reads [smtp] (and its [[smtp.domain]] overrides); relative paths are read against
// config_file's folder.
DeliveryConfig readDeliveryConfig(ConfigTable& t, const std::string& config_file = "");

}  // namespace lbmail::delivery
