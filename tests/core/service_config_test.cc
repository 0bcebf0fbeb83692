// Tests for the shared [node], [admin] and [log] sections and the example configurations.
#include "lbmail/core/service_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "validate.h"
#include "temp_path.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

Expected<ServiceConfig, std::string> loadText(const std::string& text, Mode mode) {
  std::string path = test::tempPath("service_config.toml");
  std::ofstream(path) << text;
  return loadServiceConfig(path, mode);
}

TEST(ServiceConfig, EmptyFileGivesTheDefaults) {
  auto c = loadText("", Mode::kSink);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->mode, Mode::kSink);
  EXPECT_EQ(c->node_name, "lbmail-sink");
  EXPECT_EQ(c->admin.listen.toString(), "127.0.0.1:9102");
  EXPECT_EQ(c->admin.request_timeout, Duration(10s));
  EXPECT_EQ(c->admin.max_header_bytes, 16384u);
  EXPECT_EQ(c->log.level, LogLevel::kInfo);
}

TEST(ServiceConfig, EachModeHasItsOwnAdminPort) {
  EXPECT_EQ(defaultAdminPort(Mode::kInitiator), 9100);
  EXPECT_EQ(defaultAdminPort(Mode::kGateway), 9101);
  EXPECT_EQ(defaultAdminPort(Mode::kSink), 9102);
  EXPECT_EQ(defaultAdminPort(Mode::kSim), 9103);
}

TEST(ServiceConfig, ReadsEverySharedKey) {
  auto c = loadText(R"(
[node]
name = "gw-7"
[admin]
listen = "127.0.0.5:8080"
request_timeout = "2s"
idle_timeout = "30s"
max_header_bytes = "8KiB"
max_body_bytes = 0
max_connections = 10
[log]
level = "debug"
repeat_interval = "1m"
)",
                    Mode::kGateway);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->node_name, "gw-7");
  EXPECT_EQ(c->admin.listen.toString(), "127.0.0.5:8080");
  EXPECT_EQ(c->admin.request_timeout, Duration(2s));
  EXPECT_EQ(c->admin.idle_timeout, Duration(30s));
  EXPECT_EQ(c->admin.max_header_bytes, 8192u);
  EXPECT_EQ(c->admin.max_body_bytes, 0u);
  EXPECT_EQ(c->admin.max_connections, 10u);
  EXPECT_EQ(c->log.level, LogLevel::kDebug);
  EXPECT_EQ(c->log.repeat_interval, Duration(1min));
}

TEST(ServiceConfig, RejectsNodeNamesThatWouldBreakLogLines) {
  auto c = loadText("[node]\nname = \"gw 1\"\n", Mode::kGateway);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find(":2:8: node.name: expected a name of 1 to 64 characters"), std::string::npos) << c.error();
}

TEST(ServiceConfig, RejectsMisspelledAdminKey) {
  auto c = loadText("[admin]\nlisen = \"127.0.0.1:1\"\n", Mode::kGateway);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find(":2:9: admin.lisen: unknown key (did you mean 'listen'?)"), std::string::npos) << c.error();
}

TEST(ServiceConfig, RejectsUnknownLogLevel) {
  auto c = loadText("[log]\nlevel = \"verbose\"\n", Mode::kGateway);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("log.level: expected one of \"debug\" \"info\" \"warn\" \"error\", got string \"verbose\""),
            std::string::npos)
      << c.error();
}

// The sink's and the gateway's examples have their own sections: tests/sink and tests/gateway
// check them with their own loaders.
TEST(Mode, ParsesNames) {
  EXPECT_EQ(parseMode("gateway"), Mode::kGateway);
  EXPECT_EQ(parseMode("sim"), Mode::kSim);
  EXPECT_FALSE(parseMode("Gateway").has_value());
  EXPECT_EQ(modeName(Mode::kInitiator), "initiator");
}

}  // namespace
}  // namespace lbmail
