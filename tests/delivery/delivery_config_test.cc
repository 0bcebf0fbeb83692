// Tests for reading the delivery engine's [smtp] configuration.
#include "lbmail/delivery/delivery_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_path.h"

namespace lbmail::delivery {
namespace {

using namespace std::chrono_literals;

Expected<DeliveryConfig, std::string> load(const std::string& text) {
  std::string path = test::tempPath("delivery.toml");
  std::ofstream(path) << text;
  return loadConfigFile<DeliveryConfig>(path, [&path](ConfigTable& root) {
    ConfigTable smtp = root.table("smtp");
    return readDeliveryConfig(smtp, path);
  });
}

TEST(DeliveryConfig, DefaultsFollowRfc5321) {
  auto c = load("");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->port, 25);
  EXPECT_FALSE(c->allow_private_destinations);
  EXPECT_TRUE(c->sources.empty());
  EXPECT_EQ(c->client.greeting_timeout, Duration(5min));
  EXPECT_EQ(c->client.data_init_timeout, Duration(2min));
  EXPECT_EQ(c->client.data_block_timeout, Duration(3min));
  EXPECT_EQ(c->client.data_end_timeout, Duration(10min));
  EXPECT_EQ(c->limits.max_connections, 20u);
}

TEST(DeliveryConfig, ReadsSourcesLimitsAndDomainOverrides) {
  auto c = load(
      "[smtp]\nsource_addresses = [\"127.0.0.2\", \"::1\"]\nport = 2525\nhelo_name = \"gw1.example.net\"\n"
      "allow_private_destinations = true\n"
      "max_connections = 5\nmax_messages_per_second = 100\nrcpt_timeout = \"30s\"\nbackoff = \"1m\"\n"
      "[[smtp.domain]]\nname = \"Big.Example\"\nmax_connections = 50\nmax_new_connections_per_second = 2.5\n");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->sources.size(), 2u);
  EXPECT_EQ(c->sources[0].host(), "127.0.0.2");
  EXPECT_EQ(c->sources[1].host(), "::1");
  EXPECT_EQ(c->port, 2525);
  EXPECT_TRUE(c->allow_private_destinations);
  EXPECT_EQ(c->client.helo_name, "gw1.example.net");
  EXPECT_EQ(c->client.rcpt_timeout, Duration(30s));
  EXPECT_EQ(c->backoff, Duration(1min));
  EXPECT_EQ(c->limits.max_connections, 5u);
  ASSERT_EQ(c->domain_limits.size(), 1u);
  EXPECT_EQ(c->domain_limits[0].first, "big.example");
  EXPECT_EQ(c->domain_limits[0].second.max_connections, 50u);
  // An override starts from the defaults it does not change.
  EXPECT_DOUBLE_EQ(c->domain_limits[0].second.max_messages_per_second, 100);
  EXPECT_DOUBLE_EQ(c->domain_limits[0].second.max_new_connections_per_second, 2.5);
}

TEST(DeliveryConfig, RejectsBadValuesWithTheKey) {
  struct Case {
    const char* text;
    const char* key;
  };
  for (const Case& k : {Case{"[smtp]\nsource_addresses = [\"mail.example\"]\n", "source_addresses"},
                        Case{"[smtp]\nhelo_name = \"a b\"\n", "helo_name"},
                        Case{"[smtp]\nport = 0\n", "port"},
                        Case{"[smtp]\nmax_connections = 0\n", "max_connections"},
                        Case{"[smtp]\ngreeting_timeout = \"5\"\n", "greeting_timeout"},
                        Case{"[[smtp.domain]]\nmax_connections = 3\n", "name"},
                        Case{"[smtp]\nmax_conections = 3\n", "max_conections"}}) {
    auto c = load(k.text);
    ASSERT_FALSE(c) << k.text;
    EXPECT_NE(c.error().find(k.key), std::string::npos) << c.error();
  }
}

TEST(DeliveryConfig, TlsIsOpportunisticByDefault) {
  auto c = load("");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->tls.policy, TlsPolicy::kOpportunistic);
  EXPECT_EQ(c->tls.policyFor("example.com"), TlsPolicy::kOpportunistic);
  EXPECT_TRUE(c->tls.ca_file.empty());
  EXPECT_EQ(c->tls.mta_sts_port, 443);
  EXPECT_EQ(c->client.starttls_timeout, Duration(5min));  // Postfix's smtp_starttls_timeout
}

TEST(DeliveryConfig, ReadsTlsPolicyPerDomain) {
  std::string ca = test::tempPath("ca.pem");
  std::ofstream(ca) << "not checked here\n";
  auto c = load("[smtp]\ntls_policy = \"verify\"\ntls_ca_file = \"" + ca +
                "\"\nmta_sts_port = 8443\nmta_sts_fetch_timeout = \"2s\"\nstarttls_timeout = \"20s\"\n"
                "[[smtp.domain]]\nname = \"Plain.Example\"\ntls_policy = \"none\"\n"
                "[[smtp.domain]]\nname = \"limits.example\"\nmax_connections = 3\n"
                "[[smtp.domain]]\nname = \"sts.example\"\ntls_policy = \"mta-sts\"\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->tls.policy, TlsPolicy::kVerify);
  EXPECT_EQ(c->tls.ca_file, ca);
  EXPECT_EQ(c->tls.mta_sts_port, 8443);
  EXPECT_EQ(c->tls.mta_sts_fetch_timeout, Duration(2s));
  EXPECT_EQ(c->client.starttls_timeout, Duration(20s));
  EXPECT_EQ(c->tls.policyFor("plain.example"), TlsPolicy::kNone);
  EXPECT_EQ(c->tls.policyFor("sts.example"), TlsPolicy::kMtaSts);
  // A domain entry that sets only limits keeps the default policy.
  EXPECT_EQ(c->tls.policyFor("limits.example"), TlsPolicy::kVerify);
  EXPECT_EQ(c->tls.policyFor("other.example"), TlsPolicy::kVerify);
}

TEST(DeliveryConfig, RefusesUnknownTlsPolicyAndMissingCaFile) {
  auto bad = load("[smtp]\ntls_policy = \"always\"\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("tls_policy"), std::string::npos) << bad.error();
  auto domain = load("[[smtp.domain]]\nname = \"a.example\"\ntls_policy = \"dnssec\"\n");
  ASSERT_FALSE(domain);
  EXPECT_NE(domain.error().find("tls_policy"), std::string::npos) << domain.error();
  auto ca = load("[smtp]\ntls_ca_file = \"/nonexistent/ca.pem\"\n");
  ASSERT_FALSE(ca);
  EXPECT_NE(ca.error().find("tls_ca_file"), std::string::npos) << ca.error();
}

}  // namespace
}  // namespace lbmail::delivery
