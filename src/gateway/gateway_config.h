// The gateway mode's configuration: [gateway] (links, key, media, capacity) beside the [smtp]
// and [dns] tables the delivery engine and resolver read, [dkim], the signing keys, and
// [shaping], how replies slow down or suspend a sending address per receiving site, and
// [feedback], bounces, complaints and unsubscribes received for the initiators.
#pragma once

#include <string>
#include <vector>

#include "feedback_config.h"
#include "lbmail/core/service_config.h"
#include "lbmail/dkim/dkim_config.h"
#include "lbmail/dns/mx_resolver.h"
#include "lbmail/delivery/delivery_config.h"
#include "lbmail/proto/link_credentials.h"
#include "lbmail/shaping/shaping_config.h"

namespace lbmail {

struct GatewaySettings {
  SocketAddress listen = *SocketAddress::parse("127.0.0.1:7301");  // initiator links
  proto::LinkCredentials credentials;                              // key_file, or the tls_* files
  std::vector<std::string> allowed_initiators;                     // IPs; empty: any that holds the key
  uint32_t max_links = 64;
  // Handshake admission (proto::LinkAcceptorConfig): connections in their handshake, in all
  // and per source address, and how long a handshake may take.
  uint32_t max_handshakes = 64;
  uint32_t max_handshakes_per_address = 8;
  Duration handshake_timeout = std::chrono::seconds(5);
  uint32_t capacity = 1000;  // requests in flight at once, across links: credit never exceeds it
  std::string media_cache;   // `lbmail media build` output; empty: no media (materials with media fail)
  Duration drain_timeout = std::chrono::seconds(30);  // then what is still queued is deferred
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration heartbeat_timeout = std::chrono::seconds(5);
};

struct GatewayConfig {
  ServiceConfig service;
  GatewaySettings gateway;
  delivery::DeliveryConfig smtp;
  dns::ResolverConfig dns;
  dkim::DkimConfig dkim;  // no keys: nothing is signed
  shaping::ShapingConfig shaping;
  FeedbackSettings feedback;  // enabled false: no [feedback] key_file
};

Expected<GatewayConfig, std::string> loadGatewayConfig(const std::string& file);

}  // namespace lbmail
