// The gateway's [feedback] table: the token key, the SMTP listener for bounces and complaints,
// the spool of events kept for the initiators, and the one-click unsubscribe listener.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/config_document.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"
#include "lbmail/feedback/feedback_key.h"

namespace lbmail {

struct FeedbackSettings {
  bool enabled = false;  // [feedback] with a key_file
  std::string key_file;
  uint8_t key_id = 1;
  std::vector<feedback::FeedbackKey> keys;  // loaded and checked with the configuration
  std::optional<SocketAddress> listen;      // the SMTP listener; none: no listener
  std::string hostname;                     // its greeting's name; default the [node] name
  std::vector<std::string> bounce_domains;  // VERP domains: <any>+<token>@<domain>
  std::vector<std::string> feedback_addresses;  // where feedback loops send ARF reports (lowercased)
  Duration token_max_age = std::chrono::hours(24 * 30);
  uint64_t max_message_size = 10 * 1024 * 1024;
  uint32_t max_connections = 100;
  uint64_t max_kept_bytes = 64 * 1024 * 1024;  // message bodies held at once, all connections
  Duration idle_timeout = std::chrono::minutes(5);  // RFC 5321 section 4.5.3.2's server timeout
  std::string spool;  // the events file
  uint64_t spool_max_events = 100000;  // unacknowledged events; past it new mail gets 452
  std::optional<SocketAddress> unsubscribe_listen;
  std::string unsubscribe_tls_cert;
  std::string unsubscribe_tls_key;
};

// Reads [feedback]; node_name is the default hostname. Throws ConfigError (via ConfigTable) for
// a bad key.
FeedbackSettings readFeedbackConfig(ConfigTable t, const std::string& config_file, const std::string& node_name);

}  // namespace lbmail
