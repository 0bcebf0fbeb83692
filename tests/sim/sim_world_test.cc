// Tests for src/sim/sim_world.cc, mostly without building the world: the child configs are TOML
// that parses to the world's names, addresses and paths (quoted as TOML requires, whatever a
// path holds), and names are read back through the world's maps; with tls, a small world is
// built for its certificates.
#include "sim_world.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <filesystem>
#include <string>

#include "lbmail/tls/certificate_files.h"
#include "temp_path.h"

namespace lbmail {
namespace {

SimSettings smallWorld() {
  SimSettings s;
  s.work_dir = "/tmp/a \"quoted\" folder\\";
  s.gateways = 2;
  s.groups = 2;
  s.domains = 3;
  s.matrix = defaultMatrix(s.gateways, s.groups);
  s.matrix[1].max_connections = 7;
  return s;
}

toml::table parse(const std::string& text) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    ADD_FAILURE() << e.description() << "\n" << text;
    return {};
  }
}

TEST(SimWorld, NamesAreReadBackThroughItsMaps) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "");
  EXPECT_EQ(world.gatewayName(1), "gw2");
  EXPECT_EQ(world.gatewayIndex("gw2"), 1u);
  EXPECT_EQ(world.gatewayIndex("gw3"), std::nullopt);
  EXPECT_EQ(world.gatewayIndex("gw"), std::nullopt);
  EXPECT_EQ(world.gatewayIndex(""), std::nullopt);
  EXPECT_EQ(world.groupOfDomain("d2.g1.sim"), 0u);
  EXPECT_EQ(world.groupOfDomain("d1.g2.sim"), 1u);
  EXPECT_EQ(world.groupOfDomain("d7.g2.sim"), std::nullopt);
  EXPECT_EQ(world.groupOfDomain("x.g2.example"), std::nullopt);
}

TEST(SimWorld, GatewayConfigWithStaticRoutes) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table c = parse(world.gatewayConfig(1));
  EXPECT_EQ(c["node"]["name"].value_or(std::string()), "gw2");
  EXPECT_EQ(c["gateway"]["listen"].value_or(std::string()), world.gatewayLink(1));
  EXPECT_EQ(c["gateway"]["key_file"].value_or(std::string()), s.work_dir + "/link.key");
  EXPECT_EQ(c["gateway"]["capacity"].value_or(0), 400);
  EXPECT_EQ(c["smtp"]["port"].value_or(0), SimWorld::kSmtpPort);
  EXPECT_EQ(c["smtp"]["source_addresses"][0].value_or(std::string()), world.gatewaySource(1));
  const toml::array* routes = c["dns"]["route"].as_array();
  ASSERT_NE(routes, nullptr);
  ASSERT_EQ(routes->size(), 3u);
  for (const toml::node& r : *routes) {
    std::string domain = r.at_path("domain").value_or(std::string());
    std::optional<uint32_t> group = world.groupOfDomain(domain);
    ASSERT_TRUE(group) << domain;
    EXPECT_EQ(r.at_path("addresses[0]").value_or(std::string()),
              world.sinkIp(*group) + ":" + std::to_string(SimWorld::kSmtpPort));
  }
}

TEST(SimWorld, GatewayConfigWithDnsmasq) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "/usr/sbin/dnsmasq");
  toml::table c = parse(world.gatewayConfig(0));
  EXPECT_EQ(c["dns"]["servers"][0].value_or(std::string()), world.dnsAddress());
  EXPECT_EQ(c["dns"]["query_timeout"].value_or(std::string()), "300ms");
  EXPECT_FALSE(c["dns"]["route"]);
}

TEST(SimWorld, AnOutsideReceiverTakesEveryDomainWithoutDnsmasq) {
  SimSettings s = smallWorld();
  s.receiver = "127.0.0.1:2600";
  SimWorld world(s, "/bin/lbmail", "/usr/sbin/dnsmasq");
  EXPECT_FALSE(world.useDnsmasq());
  toml::table c = parse(world.gatewayConfig(0));
  const toml::array* routes = c["dns"]["route"].as_array();
  ASSERT_NE(routes, nullptr);
  ASSERT_EQ(routes->size(), 3u);
  for (const toml::node& r : *routes) EXPECT_EQ(r.at_path("addresses[0]").value_or(std::string()), s.receiver);
}

TEST(SimWorld, SinkConfigHasARulePerGatewayAndTheShiftFirst) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table plain = parse(world.sinkConfig(0, false));
  EXPECT_EQ(plain["node"]["name"].value_or(std::string()), "sink-g1");
  EXPECT_EQ(plain["sink"]["hostname"].value_or(std::string()), "mx.g1.sim");
  const toml::array* rules = plain["sink"]["rule"].as_array();
  ASSERT_NE(rules, nullptr);
  ASSERT_EQ(rules->size(), 2u);
  for (const toml::node& r : *rules) EXPECT_FALSE(r.at_path("after"));

  toml::table shifted = parse(world.sinkConfig(0, true));
  rules = shifted["sink"]["rule"].as_array();
  ASSERT_NE(rules, nullptr);
  ASSERT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0].at_path("after").value_or(std::string()), "3000ms");
  EXPECT_FALSE((*rules)[3].at_path("after"));
  // Group 1 has no shift.
  toml::table other = parse(world.sinkConfig(1, true));
  ASSERT_NE(other["sink"]["rule"].as_array(), nullptr);
  EXPECT_EQ(other["sink"]["rule"].as_array()->size(), 2u);
}

TEST(SimWorld, InitiatorConfigNamesTheWorldsGatewaysAndPaths) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table c = parse(world.initiatorConfig("oracle", "fixed"));
  EXPECT_EQ(c["campaign"]["name"].value_or(std::string()), "oracle");
  EXPECT_EQ(c["campaign"]["database"].value_or(std::string()), s.work_dir + "/recipients.db");
  EXPECT_EQ(c["campaign"]["accounting_file"].value_or(std::string()), s.work_dir + "/oracle.csv");
  EXPECT_EQ(c["campaign"]["material"][0]["text"].value_or(std::string()),
            "Dear {{first_name|customer}},\nthe spring offer for {{city|your city}} is attached.\n");
  EXPECT_EQ(c["campaign"]["material"][0]["inline"][0]["cid"].value_or(std::string()), "logo");
  EXPECT_EQ(c["selection"]["policy"].value_or(std::string()), "fixed");
  const toml::array* routes = c["selection"]["route"].as_array();
  ASSERT_NE(routes, nullptr);
  ASSERT_EQ(routes->size(), 2u);
  for (uint32_t k = 0; k < 2; ++k) {
    std::string gateway = (*routes)[k].at_path("gateway").value_or(std::string());
    EXPECT_EQ(world.gatewayIndex(gateway), fastestGateway(s.matrix, k)) << gateway;
  }
  const toml::array* gateways = c["gateway"].as_array();
  ASSERT_NE(gateways, nullptr);
  ASSERT_EQ(gateways->size(), 2u);
  EXPECT_EQ((*gateways)[1].at_path("name").value_or(std::string()), "gw2");
  EXPECT_EQ((*gateways)[1].at_path("address").value_or(std::string()), world.gatewayLink(1));

  // Other policies route nothing by hand.
  EXPECT_FALSE(parse(world.initiatorConfig("ewma", "ewma"))["selection"]["route"]);
}

TEST(SimWorld, WithTlsSinksGetCertificatesAndGatewaysRequireEncryption) {
  SimSettings s = smallWorld();
  SimWorld plain_world(s, "/bin/lbmail", "");
  EXPECT_FALSE(parse(plain_world.sinkConfig(0, false))["sink"]["tls_certificate"]);
  EXPECT_FALSE(parse(plain_world.gatewayConfig(0))["smtp"]["tls_policy"]);

  s.tls = true;
  SimWorld world(s, "/bin/lbmail", "");
  toml::table sink = parse(world.sinkConfig(1, false));
  EXPECT_EQ(sink["sink"]["tls_certificate"].value_or(std::string()), s.work_dir + "/tls/sink-g2.pem");
  EXPECT_EQ(sink["sink"]["tls_key"].value_or(std::string()), s.work_dir + "/tls/sink-g2.key");
  EXPECT_EQ(parse(world.gatewayConfig(1))["smtp"]["tls_policy"].value_or(std::string()), "encrypt");
}

TEST(SimWorld, BuildWritesAnOwnerOnlyCertificateForEachSinksMxName) {
  SimSettings s = smallWorld();
  s.work_dir = test::tempPath("sim-world-tls");
  s.recipients = 20;
  s.attachment_size = 0;
  s.tls = true;
  std::filesystem::remove_all(s.work_dir);
  std::filesystem::create_directories(s.work_dir);
  SimWorld world(s, "/bin/lbmail", "");
  ASSERT_EQ(world.build(), "");
  for (uint32_t k = 0; k < s.groups; ++k) {
    struct stat st {};
    ASSERT_EQ(::stat(world.sinkKey(k).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(tls::useCertificateAndKey(ctx, world.sinkCertificate(k), world.sinkKey(k)), "");
    X509* cert = SSL_CTX_get0_certificate(ctx);
    std::string name = "mx.g" + std::to_string(k + 1) + ".sim";
    EXPECT_EQ(X509_check_host(cert, name.c_str(), name.size(), 0, nullptr), 1) << name;
    EXPECT_EQ(X509_check_ip_asc(cert, world.sinkIp(k).c_str(), 0), 1) << world.sinkIp(k);
    SSL_CTX_free(ctx);
  }
  std::filesystem::remove_all(s.work_dir);
}

}  // namespace
}  // namespace lbmail
