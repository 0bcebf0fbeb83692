// The configuration every mode shares: node identity, the admin HTTP endpoint and logging.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lbmail/core/config_document.h"
#include "lbmail/core/log.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"

namespace lbmail {

enum class Mode { kInitiator, kGateway, kSink, kSim };

std::string_view modeName(Mode mode);
std::optional<Mode> parseMode(std::string_view text);
// Each mode has its own default admin port so that one of each can share a host.
uint16_t defaultAdminPort(Mode mode);

struct AdminConfig {
  SocketAddress listen;                                  // default 127.0.0.1:<mode port>
  Duration request_timeout = std::chrono::seconds(10);   // for a new connection's first byte, and for
                                                         // a started request to arrive in full
  Duration idle_timeout = std::chrono::seconds(60);      // keep-alive connection with nothing to do
  uint64_t max_header_bytes = 16 * 1024;                 // request line and headers: else 431
  uint64_t max_body_bytes = 64 * 1024;                   // admin requests carry no real body: else 413
  uint32_t max_connections = 256;                        // beyond it the oldest idle one is closed;
                                                         // with none idle, the new one
};

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  Duration repeat_interval = std::chrono::seconds(10);
};

struct ServiceConfig {
  Mode mode = Mode::kGateway;
  std::string node_name;
  AdminConfig admin;
  LogConfig log;
};

// Reads [node], [admin] and [log] from the root table.
ServiceConfig readServiceConfig(ConfigTable& root, Mode mode);

// The whole file for a mode that has (so far) nothing beyond the shared sections.
Expected<ServiceConfig, std::string> loadServiceConfig(const std::string& file, Mode mode);

}  // namespace lbmail
