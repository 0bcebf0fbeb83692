// Tests for src/gateway/gateway_config.cc: the example loads, the key is required, values are
// checked, paths are relative to the file.
#include "gateway_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

Expected<GatewayConfig, std::string> loadText(const std::string& text) {
  std::string path = test::tempPath("gateway.toml");
  std::ofstream(path) << text;
  return loadGatewayConfig(path);
}

TEST(GatewayConfig, ExampleConfigLoads) {
  auto c = loadGatewayConfig(test::testEnv("LBMAIL_SOURCE_ROOT") + "/configs/gateway.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->service.mode, Mode::kGateway);
  EXPECT_EQ(c->service.admin.listen.port(), 9101);
  EXPECT_EQ(c->gateway.listen.toString(), "127.0.0.1:7301");
  EXPECT_EQ(c->gateway.credentials.key_file, "/etc/lbmail/link.key");
  EXPECT_EQ(c->gateway.capacity, 1000u);
  EXPECT_EQ(c->smtp.client.helo_name, "gateway-1.lbmail.test");
  EXPECT_EQ(c->dns.smtp_port, 25);
}

TEST(GatewayConfig, KeyFileIsRequired) {
  auto c = loadText("[gateway]\ncapacity = 10\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("gateway.key_file: expected the path of the link's pre-shared key file (required)"),
            std::string::npos)
      << c.error();
}

TEST(GatewayConfig, ValuesAreChecked) {
  auto c = loadText("[gateway]\nkey_file = \"k\"\ncapacity = 0\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("gateway.capacity"), std::string::npos) << c.error();
  c = loadText("[gateway]\nkey_file = \"k\"\nallowed_initiators = [\"not an ip\"]\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("gateway.allowed_initiators"), std::string::npos) << c.error();
  c = loadText("[gateway]\nkey_file = \"k\"\nheartbeat_interval = \"5s\"\nheartbeat_timeout = \"2s\"\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("gateway.heartbeat_timeout"), std::string::npos) << c.error();
  c = loadText("[gateway]\nkey_file = \"k\"\ncapacty = 5\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("gateway.capacty: unknown key"), std::string::npos) << c.error();
}

TEST(GatewayConfig, HandshakeAdmissionIsConfiguredAndChecked) {
  auto c = loadGatewayConfig(test::testEnv("LBMAIL_SOURCE_ROOT") + "/configs/gateway.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.max_handshakes, 64u);
  EXPECT_EQ(c->gateway.max_handshakes_per_address, 8u);
  EXPECT_EQ(c->gateway.handshake_timeout, Duration(5s));
  c = loadText("[gateway]\nkey_file = \"k\"\nmax_handshakes = 20\nmax_handshakes_per_address = 3\n"
               "handshake_timeout = \"2s\"\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.max_handshakes, 20u);
  EXPECT_EQ(c->gateway.max_handshakes_per_address, 3u);
  EXPECT_EQ(c->gateway.handshake_timeout, Duration(2s));
  // A pool smaller than the default share is the share as well.
  c = loadText("[gateway]\nkey_file = \"k\"\nmax_handshakes = 4\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.max_handshakes_per_address, 4u);
  for (const char* bad : {"max_handshakes = 0", "max_handshakes_per_address = 0",
                          "max_handshakes = 4\nmax_handshakes_per_address = 5", "handshake_timeout = \"1ms\"",
                          "handshake_timeout = \"1h\""}) {
    c = loadText(std::string("[gateway]\nkey_file = \"k\"\n") + bad + "\n");
    ASSERT_FALSE(c) << bad;
    std::string key = std::string(bad).substr(0, std::string(bad).rfind(" ="));
    key = key.substr(key.rfind('\n') + 1);
    EXPECT_NE(c.error().find("gateway." + key), std::string::npos) << c.error();
  }
}

TEST(GatewayConfig, HostsFromDnsAreReachedOnTheSmtpPort) {
  auto c = loadText("[gateway]\nkey_file = \"k\"\ndrain_timeout = \"2s\"\n[smtp]\nport = 2525\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->dns.smtp_port, 2525);
  EXPECT_EQ(c->gateway.drain_timeout, Duration(2s));
}

// As the initiator's: a gateway started from another working directory finds its key and media.
TEST(GatewayConfig, RelativePathsAreReadAgainstTheConfigFilesFolder) {
  std::string dir = std::filesystem::path(test::tempPath("gateway-relative")).lexically_normal();
  std::filesystem::create_directories(dir + "/conf");
  std::string path = dir + "/conf/gateway.toml";
  std::ofstream(path) << "[gateway]\nkey_file = \"keys/link.key\"\nmedia_cache = \"../media\"\n";
  auto c = loadGatewayConfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.credentials.key_file, dir + "/conf/keys/link.key");
  EXPECT_EQ(c->gateway.media_cache, dir + "/media");
  // Absolute paths stay as written, and no media cache stays none.
  std::ofstream(path) << "[gateway]\nkey_file = \"/etc/lbmail/link.key\"\n";
  c = loadGatewayConfig(path);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.credentials.key_file, "/etc/lbmail/link.key");
  EXPECT_EQ(c->gateway.media_cache, "");
}

// [feedback]: off without a key file; each listener needs the key and the spool; the TLS pair
// comes whole; the key is read with the configuration.
TEST(GatewayConfig, FeedbackIsCheckedWithClearErrors) {
  auto c = loadText("[gateway]\nkey_file = \"k\"\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->feedback.enabled);
  struct Case {
    const char* table;
    const char* error;
  };
  for (const Case& k : std::initializer_list<Case>{
           {"listen = \"127.0.0.1:2525\"\nbounce_domains = [\"b.test\"]", "feedback.key_file: expected the feedback key's path"},
           {"key_file = \"f.key\"\nlisten = \"127.0.0.1:2525\"\nbounce_domains = [\"b.test\"]", "feedback.spool"},
           {"key_file = \"f.key\"\nlisten = \"127.0.0.1:2525\"\nspool = \"s\"", "feedback.listen"},
           {"key_file = \"f.key\"\nspool = \"s\"\nunsubscribe_listen = \"127.0.0.1:8080\"\nunsubscribe_tls_cert = \"c.pem\"",
            "feedback.unsubscribe_tls_key"},
           {"key_file = \"f.key\"\nlisten = \"nowhere\"", "feedback.listen"},
           {"key_file = \"f.key\"\nbounce_domains = [\"a@b\"]", "feedback.bounce_domains"},
           {"key_file = \"f.key\"\nfeedback_addresses = [\"nobody\"]", "feedback.feedback_addresses"},
           {"key_file = \"/nonexistent/f.key\"", "feedback.key_file: expected a readable feedback key"},
       }) {
    c = loadText(std::string("[gateway]\nkey_file = \"k\"\n[feedback]\n") + k.table + "\n");
    ASSERT_FALSE(c) << k.table;
    EXPECT_NE(c.error().find(k.error), std::string::npos) << k.table << ": " << c.error();
  }
}

TEST(GatewayConfig, FeedbackKeysHaveTheirDefaults) {
  std::string key = test::tempPath("gateway-feedback.key");
  std::filesystem::remove(key);
  std::ofstream(key) << std::string(64, 'a') << "\n";
  std::filesystem::permissions(key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto c = loadText("[node]\nname = \"gw-7\"\n[gateway]\nkey_file = \"k\"\n[feedback]\nkey_file = \"" + key +
                    "\"\nlisten = \"127.0.0.1:2525\"\nbounce_domains = [\"Bounce.Example.com\"]\n"
                    "feedback_addresses = [\"FBL@example.com\"]\nspool = \"fb.spool\"\n");
  ASSERT_TRUE(c) << c.error();
  const FeedbackSettings& f = c->feedback;
  EXPECT_TRUE(f.enabled);
  EXPECT_EQ(f.keys.size(), 1u);
  EXPECT_EQ(f.key_id, 1);
  EXPECT_EQ(f.hostname, "gw-7");
  EXPECT_EQ(f.bounce_domains, std::vector<std::string>{"bounce.example.com"});
  EXPECT_EQ(f.feedback_addresses, std::vector<std::string>{"fbl@example.com"});
  EXPECT_EQ(f.token_max_age, Duration(24h * 30));
  EXPECT_EQ(f.max_message_size, 10u * 1024 * 1024);
  EXPECT_EQ(f.max_connections, 100u);
  EXPECT_EQ(f.max_kept_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(f.spool_max_events, 100000u);
  EXPECT_FALSE(f.unsubscribe_listen);
}

}  // namespace
}  // namespace lbmail
