// Tests for the sink's configuration and rule matching.
#include "sink_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

Expected<SinkConfig, std::string> loadText(const std::string& text) {
  std::string path = test::tempPath("sink.toml");
  std::ofstream(path) << text;
  return loadSinkConfig(path);
}

TEST(SinkConfig, ExampleConfigLoadsWithItsRules) {
  auto c = loadSinkConfig(test::testEnv("LBMAIL_SOURCE_ROOT") + "/configs/sink.toml");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->service.mode, Mode::kSink);
  ASSERT_EQ(c->sink.listen.size(), 1u);
  EXPECT_EQ(c->sink.listen[0].toString(), "127.0.0.1:2525");
  ASSERT_EQ(c->sink.rules.size(), 6u);
  EXPECT_EQ(c->sink.rules[0].bounce_reply.code, 554);
  EXPECT_EQ(c->sink.rules[1].after, Duration(60s));
  EXPECT_DOUBLE_EQ(c->sink.rules[2].defer_rcpt, 0.05);
  ASSERT_TRUE(c->sink.rules[4].rate_reply);
  EXPECT_EQ(c->sink.rules[4].rate_reply->enhanced, "4.7.28");
}

TEST(SinkConfig, BounceAndRateRepliesAreParsedIntoCodeEnhancedCodeAndText) {
  auto c = loadText("[[sink.rule]]\nbounce_reply = \"554 5.7.1 Client host [127.0.0.5] blocked using zen.spamhaus.org\"\n"
                    "rate_reply = \"421 4.7.28 unusual rate of unsolicited mail\"\n[[sink.rule]]\n"
                    "bounce_reply = \"550 no such user\"\n");
  ASSERT_TRUE(c) << c.error();
  const SinkRule& r = c->sink.rules[0];
  EXPECT_EQ(r.bounce_reply.code, 554);
  EXPECT_EQ(r.bounce_reply.enhanced, "5.7.1");
  EXPECT_EQ(r.bounce_reply.text, "Client host [127.0.0.5] blocked using zen.spamhaus.org");
  ASSERT_TRUE(r.rate_reply);
  EXPECT_EQ(r.rate_reply->code, 421);
  EXPECT_EQ(r.rate_reply->enhanced, "4.7.28");
  EXPECT_EQ(r.rate_reply->text, "unusual rate of unsolicited mail");
  EXPECT_EQ(c->sink.rules[1].bounce_reply.enhanced, "");
  EXPECT_EQ(c->sink.rules[1].bounce_reply.text, "no such user");
  EXPECT_FALSE(c->sink.rules[1].rate_reply);
  // The defaults: today's replies.
  auto d = loadText("[[sink.rule]]\n");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->sink.rules[0].bounce_reply.code, 550);
  EXPECT_EQ(d->sink.rules[0].bounce_reply.enhanced, "5.1.1");
}

TEST(SinkConfig, RepliesOfTheWrongClassOrWithLineBreaksAreRefused) {
  for (const char* bad : {"bounce_reply = \"450 4.7.1 later\"", "bounce_reply = \"554 4.7.1 mixed\"",
                          "bounce_reply = \"554 5.7.1 a\\r\\n250 ok\"", "bounce_reply = \"blocked\"",
                          "rate_reply = \"554 5.7.1 no\"", "rate_reply = \"421-4.7.28 multi\"",
                          "rate_reply = \"42 short\""}) {
    auto c = loadText(std::string("[[sink.rule]]\n") + bad + "\n");
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().find("expected one reply line without CR or LF"), std::string::npos) << c.error();
  }
}

TEST(SinkConfig, ListenTakesOneAddressOrSeveral) {
  auto c = loadText("[sink]\nlisten = [\"127.0.0.2:25\", \"127.0.0.3:25\"]\n");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->sink.listen.size(), 2u);
  EXPECT_EQ(c->sink.listen[1].toString(), "127.0.0.3:25");
}

TEST(SinkConfig, BadRuleValuesNameTheirKeyAndLine) {
  auto a = loadText("[[sink.rule]]\ndefer_rcpt = 1.5\n");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find(":2:14: sink.rule.defer_rcpt: expected a number from 0"), std::string::npos) << a.error();
  auto b = loadText("[[sink.rule]]\nreply_latency = \"fast\"\n");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().find("sink.rule.reply_latency: expected a latency"), std::string::npos) << b.error();
  auto c = loadText("[[sink.rule]]\nclient = \"mx.example\"\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("sink.rule.client: expected an IP address"), std::string::npos) << c.error();
  auto d = loadText("[[sink.rule]]\nreply_latncy = \"1ms\"\n");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find(":2:16: sink.rule.reply_latncy: unknown key (did you mean 'reply_latency'?)"),
            std::string::npos)
      << d.error();
  auto e = loadText("[[sink.rule]]\ndefer_data = 0.6\nbounce_data = 0.6\n");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("at most 1"), std::string::npos) << e.error();
}

TEST(LatencySpec, ParsesFixedRangeAndExponential) {
  std::mt19937_64 rng(7);
  EXPECT_EQ(LatencySpec::parse("20ms")->draw(rng), Duration(20ms));
  auto range = LatencySpec::parse("10ms..30ms");
  ASSERT_TRUE(range);
  for (int i = 0; i < 100; ++i) {
    Duration d = range->draw(rng);
    EXPECT_GE(d, Duration(10ms));
    EXPECT_LE(d, Duration(30ms));
  }
  auto exp = LatencySpec::parse("exp:10ms");
  ASSERT_TRUE(exp);
  double sum = 0;
  for (int i = 0; i < 20000; ++i) sum += static_cast<double>(exp->draw(rng).count());
  EXPECT_NEAR(sum / 20000 / 1e6, 10.0, 0.5);  // mean in ms, fixed seed
  EXPECT_FALSE(LatencySpec::parse("30ms..10ms"));
  EXPECT_FALSE(LatencySpec::parse("exp:"));
}

TEST(LatencySpec, RefusesLatenciesOverADaySoNoDrawOverflows) {
  // Before: "exp:100000d" parsed, and a draw of up to 20 means left the nanosecond counter.
  EXPECT_FALSE(LatencySpec::parse("exp:100000d"));
  EXPECT_FALSE(LatencySpec::parse("1ms..25h"));
  EXPECT_FALSE(LatencySpec::parse("25h"));
  auto max = LatencySpec::parse("exp:24h");
  ASSERT_TRUE(max);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) EXPECT_LE(max->draw(rng), 20 * LatencySpec::kMax);
}

TEST(SinkConfig, BodyMemoryDefaultsToAtLeastTheMessageSizeAndMayNotBeBelowIt) {
  auto a = loadText("[sink]\nmax_message_size = \"1GiB\"\n");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->sink.max_body_memory, 1ull << 30);
  auto b = loadText("[sink]\nmax_message_size = \"8MiB\"\nmax_body_memory = \"16MiB\"\n");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->sink.max_body_memory, 16ull << 20);
  EXPECT_EQ(loadText("[sink]\n")->sink.max_body_memory, 256ull << 20);
  auto c = loadText("[sink]\nmax_message_size = \"32MiB\"\nmax_body_memory = \"16MiB\"\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("sink.max_body_memory: expected a size at least max_message_size"), std::string::npos)
      << c.error();
}

TEST(SinkConfig, TlsCertificateAndKeyComeTogetherAndAreReadBesideTheFile) {
  auto a = loadText("[sink]\ntls_certificate = \"sink.pem\"\ntls_key = \"/keys/sink.key\"\n");
  ASSERT_TRUE(a) << a.error();
  auto beside = std::filesystem::path(test::tempPath("sink.toml")).parent_path() / "sink.pem";
  EXPECT_EQ(a->sink.tls_certificate, beside.lexically_normal().string());
  EXPECT_EQ(a->sink.tls_key, "/keys/sink.key");
  EXPECT_TRUE(loadText("[sink]\n")->sink.tls_certificate.empty());
  auto b = loadText("[sink]\ntls_certificate = \"sink.pem\"\n");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().find("sink.tls_key: expected tls_certificate and tls_key set together, or neither"),
            std::string::npos)
      << b.error();
  auto c = loadText("[sink]\ntls_key = \"sink.key\"\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("sink.tls_certificate: expected"), std::string::npos) << c.error();
}

TEST(SinkRules, FirstMatchInForceWins) {
  SinkRule shifted;
  shifted.domain = ".slow.test";
  shifted.after = 60s;
  shifted.defer_rcpt = 0.5;
  SinkRule slow;
  slow.domain = ".slow.test";
  slow.defer_rcpt = 0.1;
  SinkRule client;
  client.client = "127.0.0.3";
  client.max_connections_per_client = 2;
  SinkRules rules({shifted, slow, client});
  EXPECT_DOUBLE_EQ(rules.match("127.0.0.2", "a.slow.test", 10s).defer_rcpt, 0.1);
  EXPECT_DOUBLE_EQ(rules.match("127.0.0.2", "slow.test", 61s).defer_rcpt, 0.5);
  EXPECT_DOUBLE_EQ(rules.match("127.0.0.2", "notslow.test", 61s).defer_rcpt, 0.0);
  EXPECT_EQ(rules.match("127.0.0.3", "", 0s).max_connections_per_client, 2u);
  // A domain rule never matches where no domain is known yet (the greeting).
  EXPECT_DOUBLE_EQ(rules.match("127.0.0.2", "", 61s).defer_rcpt, 0.0);
}

TEST(SinkRules, DomainPatterns) {
  EXPECT_TRUE(SinkRules::domainMatches("example.com", "EXAMPLE.com"));
  EXPECT_FALSE(SinkRules::domainMatches("example.com", "a.example.com"));
  EXPECT_TRUE(SinkRules::domainMatches(".example.com", "example.com"));
  EXPECT_TRUE(SinkRules::domainMatches(".example.com", "a.b.example.com"));
  EXPECT_FALSE(SinkRules::domainMatches(".example.com", "badexample.com"));
}

}  // namespace
}  // namespace lbmail
