// The sink mode's configuration: [sink] and its [[sink.rule]] list, beside the shared sections.
#pragma once

#include <string>
#include <vector>

#include "lbmail/core/service_config.h"
#include "sink_rules.h"

namespace lbmail {

struct SinkSettings {
  std::vector<SocketAddress> listen;
  std::string hostname = "sink.lbmail.test";
  uint64_t max_message_size = 50 * 1024 * 1024;
  uint32_t max_recipients = 1000;
  Duration command_timeout = std::chrono::minutes(5);  // RFC 5321 §4.5.3.2.7
  Duration data_timeout = std::chrono::minutes(3);     // no byte of a message for this long
  uint32_t max_connections = 10000;
  // Bodies kept in memory (only with message_dir) across all connections, until written; a
  // message that does not fit is refused with 452. At least max_message_size.
  uint64_t max_body_memory = 256 * 1024 * 1024;
  uint64_t seed = 1;            // every random draw follows from it
  std::string message_log;      // JSON lines, one per accepted message; empty: none
  std::string refusal_log;      // JSON lines, one per recipient refused at RCPT; empty: none
  std::string message_dir;      // each accepted message as a file; empty: none
  // STARTTLS (RFC 3207) is offered when both are set: PEM files, the certificate chain (leaf
  // first) and its unencrypted private key (owner-only). Relative to the configuration file.
  std::string tls_certificate;
  std::string tls_key;
  std::vector<SinkRule> rules;
};

struct SinkConfig {
  ServiceConfig service;
  SinkSettings sink;
};

Expected<SinkConfig, std::string> loadSinkConfig(const std::string& file);

}  // namespace lbmail
