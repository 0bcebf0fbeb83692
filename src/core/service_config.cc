// Reading the configuration sections every mode shares.
#include "lbmail/core/service_config.h"

#include <array>

namespace lbmail {
namespace {

constexpr std::array<std::string_view, 4> kModeNames{"initiator", "gateway", "sink", "sim"};

AdminConfig readAdmin(ConfigTable t, Mode mode) {
  using namespace std::chrono_literals;
  AdminConfig a;
  SocketAddress fallback = *SocketAddress::parse("127.0.0.1:" + std::to_string(defaultAdminPort(mode)));
  a.listen = t.address("listen", fallback);
  a.request_timeout = t.duration("request_timeout", a.request_timeout, 10ms, 1h);
  a.idle_timeout = t.duration("idle_timeout", a.idle_timeout, 10ms, 24h);
  a.max_header_bytes = t.size("max_header_bytes", a.max_header_bytes, 256, 1024 * 1024);
  a.max_body_bytes = t.size("max_body_bytes", a.max_body_bytes, 0, 16 * 1024 * 1024);
  a.max_connections = static_cast<uint32_t>(t.integer("max_connections", a.max_connections, 1, 100000));
  return a;
}

LogConfig readLog(ConfigTable t) {
  using namespace std::chrono_literals;
  LogConfig l;
  l.level = static_cast<LogLevel>(t.choice("level", {"debug", "info", "warn", "error"}, 1));
  l.repeat_interval = t.duration("repeat_interval", l.repeat_interval, 0s, 24h);
  return l;
}

}  // namespace

std::string_view modeName(Mode mode) { return kModeNames[static_cast<size_t>(mode)]; }

std::optional<Mode> parseMode(std::string_view text) {
  for (size_t i = 0; i < kModeNames.size(); ++i) {
    if (kModeNames[i] == text) return static_cast<Mode>(i);
  }
  return std::nullopt;
}

uint16_t defaultAdminPort(Mode mode) { return static_cast<uint16_t>(9100 + static_cast<int>(mode)); }

ServiceConfig readServiceConfig(ConfigTable& root, Mode mode) {
  ServiceConfig c;
  c.mode = mode;
  ConfigTable node = root.table("node");
  c.node_name = node.string("name", "lbmail-" + std::string(modeName(mode)));
  if (c.node_name.empty() || c.node_name.size() > 64 ||
      c.node_name.find_first_of(" \t\r\n\"=") != std::string::npos) {
    node.fail("name", "a name of 1 to 64 characters without blanks, quotes or '='");
  }
  c.admin = readAdmin(root.table("admin"), mode);
  c.log = readLog(root.table("log"));
  return c;
}

Expected<ServiceConfig, std::string> loadServiceConfig(const std::string& file, Mode mode) {
  return loadConfigFile<ServiceConfig>(file, [mode](ConfigTable& root) { return readServiceConfig(root, mode); });
}

}  // namespace lbmail
