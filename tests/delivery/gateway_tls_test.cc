// The TLS policies through a real `lbmail gateway` process: its [smtp] tls_policy, tls_ca_file
// and [[smtp.domain]] tls_policy keys, DNS from the DANE fixture, the lbmail sink with STARTTLS;
// each RESULT's TLS fields and the gateway's TLS metrics checked against what arrived.
#include <gtest/gtest.h>

#include "gateway_process.h"
#include "lbmail/delivery/tls_policy.h"
#include "loop_thread.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "test_initiator.h"
#include "tls_delivery.h"

namespace lbmail::delivery::test {
namespace {

using lbmail::test::DaneDnsServer;
using lbmail::test::TestAnswer;
using lbmail::test::TestRequest;

lbmail::test::TestMaterial plainMaterial() {
  lbmail::test::TestMaterial m;
  m.id = 1;
  m.parts = {{proto::MaterialPartKind::kFrom, "Shop <news@shop.example>"},
             {proto::MaterialPartKind::kSubject, "TLS"},
             {proto::MaterialPartKind::kText, "Hello over TLS.\n"}};
  return m;
}

TestRequest requestTo(uint64_t id, const std::string& recipient) {
  TestRequest r;
  r.id = id;
  r.sender = "bounces@shop.example";
  r.recipient = recipient;
  r.material = 1;
  return r;
}

std::map<uint64_t, std::vector<TestAnswer>> answersOf(lbmail::test::GatewayProcess& gateway,
                                                      std::vector<TestRequest> requests) {
  size_t n = requests.size();
  lbmail::test::LoopThread loop;
  lbmail::test::TestInitiator initiator(loop.loop(), gateway, {plainMaterial()}, std::move(requests));
  loop.call([&] { initiator.start(); });
  bool all = initiator.waitForAnswers(n, std::chrono::seconds(60));
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  EXPECT_TRUE(all) << gateway.err();
  return initiator.answers();
}

TEST(GatewayTls, ConfiguredPoliciesDecideAndTheResultsSaySo) {
  lbmail::test::TestPki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  lbmail::test::TestCertificate cert = pki.leaf("mx", {"mx.shop.test"});
  lbmail::test::SinkProcess sink(sinkTls(cert));
  ASSERT_TRUE(sink.start()) << sink.err();
  uint16_t port = sink.smtp().port();
  DaneDnsServer dns;
  // verified.test: its MX is the name on the certificate; wrong.test: the same host by a name
  // the certificate lacks; dane.test: the first's MX, vouched for by a TLSA record.
  dns.addMx("verified.test", 10, "mx.shop.test");
  dns.addMx("dane.test", 10, "mx.shop.test");
  dns.addAddress("mx.shop.test", "127.0.0.1");
  dns.addMx("wrong.test", 10, "other.shop.test");
  dns.addAddress("other.shop.test", "127.0.0.1");
  auto tlsa = DaneDnsServer::tlsaForCertificate(cert.cert);
  ASSERT_TRUE(tlsa.has_value());
  dns.addTlsa("_" + std::to_string(port) + "._tcp.mx.shop.test", *tlsa);

  lbmail::test::GatewayOptions go;
  go.smtp_port = port;
  go.dns_server = dns.address().toString();
  go.smtp_extra = "tls_policy = \"verify\"\ntls_ca_file = \"" + pki.caFile() + "\"\nstarttls_timeout = \"10s\"\n";
  go.extra = "[[smtp.domain]]\nname = \"dane.test\"\ntls_policy = \"dane\"\n";
  lbmail::test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();
  auto answers = answersOf(gateway, {requestTo(1, "a@verified.test"), requestTo(2, "b@wrong.test"),
                                     requestTo(3, "c@dane.test")});
  ASSERT_EQ(answers.size(), 3u);

  const TestAnswer& verified = answers[1].at(0);
  EXPECT_EQ(verified.outcome, proto::Outcome::kDelivered) << verified.text;
  EXPECT_TRUE(verified.has_tls);
  EXPECT_EQ(verified.tls_version.rfind("TLSv1.", 0), 0u) << verified.tls_version;
  EXPECT_TRUE(verified.tls_verified);
  EXPECT_EQ(verified.tls_policy, static_cast<uint8_t>(TlsPolicy::kVerify));

  const TestAnswer& wrong = answers[2].at(0);
  EXPECT_EQ(wrong.outcome, proto::Outcome::kDeferred);
  EXPECT_NE(wrong.text.find("TLS required (verify)"), std::string::npos) << wrong.text;
  EXPECT_NE(wrong.text.find("hostname mismatch"), std::string::npos) << wrong.text;
  EXPECT_EQ(wrong.tls_version, "");
  EXPECT_EQ(wrong.tls_policy, static_cast<uint8_t>(TlsPolicy::kVerify));

  const TestAnswer& dane = answers[3].at(0);
  EXPECT_EQ(dane.outcome, proto::Outcome::kDelivered) << dane.text;
  EXPECT_TRUE(dane.tls_verified);
  EXPECT_EQ(dane.tls_policy, static_cast<uint8_t>(TlsPolicy::kDane));

  auto metrics = lbmail::test::httpGet(gateway.admin(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lbmail_gateway_tls_failures_total{policy=\"verify\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("lbmail_gateway_tls_messages_total{policy=\"dane\",version=\"" + dane.tls_version +
                               "\",verified=\"true\"} 1\n"),
            std::string::npos)
      << metrics->body;
  EXPECT_EQ(gateway.stop(), 0) << gateway.err().substr(0, 4000);
  EXPECT_EQ(sink.stop(), 0);
  EXPECT_EQ(sink.messageLog().size(), 2u);  // wrong.test's message never arrived
}

}  // namespace
}  // namespace lbmail::delivery::test
