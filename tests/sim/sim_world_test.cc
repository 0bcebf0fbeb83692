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

#include "lbmail/shaping/reply_classifier.h"
#include "lbmail/tls/certificate_files.h"
#include "temp_path.h"

namespace lbmail {
namespace {

const RunWorld kShifted{"default", false, true, true};

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
  toml::table c = parse(world.gatewayConfig(1, RunWorld{}, "run"));
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
  toml::table c = parse(world.gatewayConfig(0, RunWorld{}, "run"));
  EXPECT_EQ(c["dns"]["servers"][0].value_or(std::string()), world.dnsAddress());
  EXPECT_EQ(c["dns"]["query_timeout"].value_or(std::string()), "300ms");
  EXPECT_FALSE(c["dns"]["route"]);
}

TEST(SimWorld, AnOutsideReceiverTakesEveryDomainWithoutDnsmasq) {
  SimSettings s = smallWorld();
  s.receiver = "127.0.0.1:2600";
  SimWorld world(s, "/bin/lbmail", "/usr/sbin/dnsmasq");
  EXPECT_FALSE(world.useDnsmasq());
  toml::table c = parse(world.gatewayConfig(0, RunWorld{}, "run"));
  const toml::array* routes = c["dns"]["route"].as_array();
  ASSERT_NE(routes, nullptr);
  ASSERT_EQ(routes->size(), 3u);
  for (const toml::node& r : *routes) EXPECT_EQ(r.at_path("addresses[0]").value_or(std::string()), s.receiver);
}

TEST(SimWorld, SinkConfigHasARulePerGatewayAndTheShiftFirst) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table plain = parse(world.sinkConfig(0, RunWorld{}));
  EXPECT_EQ(plain["node"]["name"].value_or(std::string()), "sink-g1");
  EXPECT_EQ(plain["sink"]["hostname"].value_or(std::string()), "mx.g1.sim");
  const toml::array* rules = plain["sink"]["rule"].as_array();
  ASSERT_NE(rules, nullptr);
  ASSERT_EQ(rules->size(), 2u);
  for (const toml::node& r : *rules) EXPECT_FALSE(r.at_path("after"));

  toml::table shifted = parse(world.sinkConfig(0, kShifted));
  rules = shifted["sink"]["rule"].as_array();
  ASSERT_NE(rules, nullptr);
  ASSERT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0].at_path("after").value_or(std::string()), "3000ms");
  EXPECT_FALSE((*rules)[3].at_path("after"));
  // Group 1 has no shift.
  toml::table other = parse(world.sinkConfig(1, kShifted));
  ASSERT_NE(other["sink"]["rule"].as_array(), nullptr);
  EXPECT_EQ(other["sink"]["rule"].as_array()->size(), 2u);
}

TEST(SimWorld, InitiatorConfigNamesTheWorldsGatewaysAndPaths) {
  SimSettings s = smallWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table c = parse(world.initiatorConfig("oracle", "fixed", RunWorld{"default", true, true, false}));
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
  EXPECT_FALSE(parse(world.initiatorConfig("ewma", "ewma", RunWorld{}))["selection"]["route"]);
}

TEST(SimWorld, WithTlsSinksGetCertificatesAndGatewaysRequireEncryption) {
  SimSettings s = smallWorld();
  SimWorld plain_world(s, "/bin/lbmail", "");
  EXPECT_FALSE(parse(plain_world.sinkConfig(0, RunWorld{}))["sink"]["tls_certificate"]);
  EXPECT_FALSE(parse(plain_world.gatewayConfig(0, RunWorld{}, "run"))["smtp"]["tls_policy"]);

  s.tls = true;
  SimWorld world(s, "/bin/lbmail", "");
  toml::table sink = parse(world.sinkConfig(1, RunWorld{}));
  EXPECT_EQ(sink["sink"]["tls_certificate"].value_or(std::string()), s.work_dir + "/tls/sink-g2.pem");
  EXPECT_EQ(sink["sink"]["tls_key"].value_or(std::string()), s.work_dir + "/tls/sink-g2.key");
  EXPECT_EQ(parse(world.gatewayConfig(1, RunWorld{}, "run"))["smtp"]["tls_policy"].value_or(std::string()), "encrypt");
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

// The scenarios' worlds: the rules their sinks get, the gateways' [shaping] and limits, and the
// oracle's routes.
SimSettings scenarioWorld() {
  SimSettings s;
  s.work_dir = test::tempPath("sim-scenario-world");
  std::filesystem::create_directories(s.work_dir);
  s.gateways = 3;
  s.groups = 2;
  s.domains = 8;
  s.matrix = defaultMatrix(s.gateways, s.groups);
  return s;
}

TEST(SimScenario, BlocklistPutsTheBlockOfGatewayOneFirstInGroupOnesSink) {
  SimSettings s = scenarioWorld();
  SimWorld world(s, "/bin/lbmail", "");
  RunWorld run{"blocklist", false, true, false};
  toml::table sink = parse(world.sinkConfig(0, run));
  const toml::array* rules = sink["sink"]["rule"].as_array();
  ASSERT_NE(rules, nullptr);
  ASSERT_EQ(rules->size(), 4u);
  EXPECT_EQ((*rules)[0].at_path("client").value_or(std::string()), world.gatewaySource(0));
  EXPECT_EQ((*rules)[0].at_path("after").value_or(std::string()), "2000ms");
  EXPECT_EQ((*rules)[0].at_path("bounce_rcpt").value_or(0.0), 1.0);
  EXPECT_EQ((*rules)[0].at_path("bounce_reply").value_or(std::string()),
            "554 5.7.1 Service unavailable; Client host [" + world.gatewaySource(0) + "] blocked using zen.spamhaus.org");
  // Paced: 90 ms more at the end of data than the default world's 10 ms.
  EXPECT_EQ((*rules)[1].at_path("data_latency").value_or(std::string()), "100ms");
  EXPECT_EQ(parse(world.sinkConfig(1, run))["sink"]["rule"].as_array()->size(), 3u);
  toml::table gw = parse(world.gatewayConfig(0, run, "blocklist-ewma"));
  EXPECT_EQ(gw["smtp"]["max_connections"].value_or(int64_t{0}), SimScenario::kPacedConnections);
  EXPECT_EQ(gw["shaping"]["suspend_for"].value_or(std::string()), "10m");
  EXPECT_EQ(gw["shaping"]["state_file"].value_or(std::string()), s.work_dir + "/state/blocklist-ewma-gw1.state");
  EXPECT_TRUE(std::filesystem::exists(gw["shaping"]["rules_file"].value_or(std::string())));
  EXPECT_FALSE(gw["shaping"]["warmup"]);
  // Without shaping (a gateway that does not know [shaping]) and in the default world: none.
  s.shaping = false;
  EXPECT_FALSE(parse(world.gatewayConfig(0, run, "x"))["shaping"]);
  EXPECT_FALSE(parse(world.gatewayConfig(0, RunWorld{}, "x"))["shaping"]);
}

// The rules file the scenarios' gateways read makes the sinks' replies a block and a throttle.
TEST(SimScenario, TheGatewaysRulesClassifyTheSinksRepliesAsBlockAndThrottle) {
  SimSettings s = scenarioWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table gw = parse(world.gatewayConfig(1, RunWorld{"throttle"}, "throttle-ewma"));
  auto classifier = shaping::ReplyClassifier::load(gw["shaping"]["rules_file"].value_or(std::string()));
  ASSERT_TRUE(classifier) << classifier.error();
  auto reply = [](const std::string& line) {
    return smtp::SmtpReply{std::stoi(line.substr(0, 3)), line.substr(4, line.find(' ', 4) - 4),
                           line.substr(line.find(' ', 4) + 1)};
  };
  EXPECT_EQ(classifier->classify(reply(SimScenario::blockReply("127.0.0.9"))), shaping::ReplyClass::kBlock);
  EXPECT_EQ(classifier->classify(reply(SimScenario::throttleReply("127.0.0.9"))), shaping::ReplyClass::kThrottle);
}

TEST(SimScenario, ThrottleLimitsEveryClientOfGroupOneAndTheOracleKnowsIt) {
  SimSettings s = scenarioWorld();
  SimWorld world(s, "/bin/lbmail", "");
  toml::table sink = parse(world.sinkConfig(0, RunWorld{"throttle"}));
  const toml::array* rules = sink["sink"]["rule"].as_array();
  ASSERT_NE(rules, nullptr);
  ASSERT_EQ(rules->size(), 3u);
  for (const toml::node& r : *rules) {
    EXPECT_EQ(r.at_path("max_message_rate").value_or(0.0), SimScenario::kThrottleRate);
    std::string reply = r.at_path("rate_reply").value_or(std::string());
    EXPECT_EQ(reply.rfind("421 4.7.28 [" + r.at_path("client").value_or(std::string()) + "]", 0), 0u) << reply;
  }
  EXPECT_FALSE(parse(world.sinkConfig(1, RunWorld{"throttle"}))["sink"]["rule"][0]["max_message_rate"]);
  RunWorld oracle{"throttle", true, true, false};
  toml::table gw = parse(world.gatewayConfig(2, oracle, "o"));
  const toml::array* limits = gw["smtp"]["domain"].as_array();
  ASSERT_NE(limits, nullptr);
  ASSERT_EQ(limits->size(), 4u);  // group 1's domains: d0, d2, d4, d6
  EXPECT_EQ((*limits)[1].at_path("name").value_or(std::string()), "d2.g1.sim");
  EXPECT_LT((*limits)[1].at_path("max_messages_per_second").value_or(0.0), SimScenario::kThrottleRate);
  EXPECT_FALSE(parse(world.gatewayConfig(2, RunWorld{"throttle"}, "e"))["smtp"]["domain"]);
  // The oracle spreads group 1's domains over the three gateways, biggest first.
  toml::table initiator = parse(world.initiatorConfig("o", "fixed", oracle));
  const toml::array* routes = initiator["selection"]["route"].as_array();
  ASSERT_NE(routes, nullptr);
  ASSERT_EQ(routes->size(), 6u);
  std::vector<std::string> to;
  for (size_t i = 0; i < 4; ++i) to.push_back((*routes)[i].at_path("gateway").value_or(std::string()));
  EXPECT_EQ(to, (std::vector<std::string>{"gw1", "gw2", "gw3", "gw3"}));
}

TEST(SimScenario, WarmupCapsGatewayOneFromTodayAndTheOracleGoesAroundIt) {
  SimSettings s = scenarioWorld();
  SimWorld world(s, "/bin/lbmail", "");
  RunWorld capped{"warmup"}, uncapped{"warmup", false, false, false};
  toml::table gw = parse(world.gatewayConfig(0, capped, "warmup-ewma"));
  const toml::array* plans = gw["shaping"]["warmup"].as_array();
  ASSERT_NE(plans, nullptr);
  ASSERT_EQ(plans->size(), 1u);
  EXPECT_EQ((*plans)[0].at_path("daily_caps[0]").value_or(int64_t{0}),
            static_cast<int64_t>(world.scenario().warmupCap()));
  EXPECT_EQ((*plans)[0].at_path("start").value_or(std::string()).size(), 10u);
  EXPECT_FALSE(parse(world.gatewayConfig(1, capped, "warmup-ewma"))["shaping"]["warmup"]);
  EXPECT_FALSE(parse(world.gatewayConfig(0, uncapped, "warmup-ewma-uncapped"))["shaping"]["warmup"]);
  toml::table initiator = parse(world.initiatorConfig("o", "fixed", RunWorld{"warmup", true, true, false}));
  const toml::array* routes = initiator["selection"]["route"].as_array();
  ASSERT_NE(routes, nullptr);
  for (const toml::node& r : *routes) EXPECT_NE(r.at_path("gateway").value_or(std::string()), "gw1");
}

}  // namespace
}  // namespace lbmail
