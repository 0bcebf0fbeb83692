// MTA-STS (RFC 8461) end to end: the DeliveryEngine finds _mta-sts.example.test's TXT record in
// the DNS fixture, fetches the policy from tests/mta_sts/policy_server.py over HTTPS and
// delivers to the lbmail sink with STARTTLS, or defers, as the policy says.
#include <gtest/gtest.h>

#include "policy_server.h"
#include "sink_process.h"
#include "tls_delivery.h"

namespace lbmail::delivery::test {
namespace {

using lbmail::mta_sts::test::PolicyRoute;
using lbmail::mta_sts::test::PolicyServer;
using lbmail::mta_sts::test::policyText;
using lbmail::mta_sts::test::servedRoute;
using lbmail::test::DaneDnsServer;
using lbmail::test::SinkProcess;
using lbmail::test::TestCertificate;
using lbmail::test::TestPki;

constexpr char kPolicyHost[] = "mta-sts.example.test";

class MtaStsDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    dns_.addMx("example.test", 10, "mx.example.test");
    dns_.addAddress("mx.example.test", "127.0.0.1");
    dns_.addTxt("_mta-sts.example.test", "v=STSv1; id=20261205T0800;");
    dns_.addAddress(kPolicyHost, "127.0.0.1");
  }

  // The policy server answering route for mta-sts.example.test (with an expired certificate
  // when expired), and the sink showing certificate.
  void start(PolicyRoute route, const TestCertificate& certificate, bool expired = false) {
    std::vector<std::string> expired_hosts;
    if (expired) expired_hosts.push_back(kPolicyHost);
    policy_ = std::make_unique<PolicyServer>(std::map<std::string, PolicyRoute>{{kPolicyHost, route}}, expired_hosts);
    ASSERT_TRUE(policy_->start());
    sink_ = std::make_unique<SinkProcess>(sinkTls(certificate));
    ASSERT_TRUE(sink_->start()) << sink_->err();
  }

  // One message under the mta-sts policy; [smtp] tls_ca_file trusts both test CAs (the policy
  // server's and the one that signed the sink's certificate).
  DeliveryResult deliver() {
    uint16_t port = sink_->smtp().port();
    DeliveryConfig c = tlsTestConfig(TlsPolicy::kMtaSts, port,
                                     caBundle(pki_, "trusted.pem", {pki_.caFile(), policy_->caFile()}));
    c.tls.mta_sts_port = policy_->port();
    TlsEngineRun run(c, fixtureResolver(dns_, port));
    return run.deliverOne("example.test", "alice@example.test");
  }
  // Messages the sink took; stops the sink and the policy server.
  size_t arrived() {
    sink_->stop();
    policy_->stop();
    return sink_->messageLog().size();
  }

  // Delivered over TLS that nothing vouched for: as without a policy, or under a testing one
  // (RFC 8461 section 5).
  void expectOpportunistic(const DeliveryResult& r) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
    EXPECT_EQ(r.tls.policy, TlsPolicy::kMtaSts);
    EXPECT_FALSE(r.tls.version.empty());
    EXPECT_FALSE(r.tls.verified);
    EXPECT_EQ(arrived(), 1u);
  }

  TestCertificate good() { return pki_.leaf("mx", {"mx.example.test"}); }
  TestCertificate selfSigned() { return pki_.selfSigned("mx-self", {"mx.example.test"}); }

  TestPki pki_;
  DaneDnsServer dns_;
  std::unique_ptr<PolicyServer> policy_;
  std::unique_ptr<SinkProcess> sink_;
};

TEST_F(MtaStsDelivery, EnforcedPolicyNamingTheMxDeliversVerified) {
  start(servedRoute(policyText("enforce", {"mx.example.test"}, 86400)), good());
  DeliveryResult r = deliver();
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kMtaSts);
  EXPECT_FALSE(r.tls.version.empty());
  EXPECT_TRUE(r.tls.verified);
  EXPECT_EQ(arrived(), 1u);
  EXPECT_EQ(policy_->requestsFor(kPolicyHost), 1u);
}

TEST_F(MtaStsDelivery, EnforcedPolicyWithoutTheMxDefers) {
  start(servedRoute(policyText("enforce", {"*.other.test"}, 86400)), good());
  DeliveryResult r = deliver();
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_EQ(r.reason.rfind("MTA-STS: ", 0), 0u) << r.reason;
  EXPECT_NE(r.reason.find("mx.example.test"), std::string::npos) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kMtaSts);
  EXPECT_EQ(arrived(), 0u);
}

TEST_F(MtaStsDelivery, EnforcedPolicySkipsAnMxHostItDoesNotName) {
  // The preferred MX is not in the policy: it is never dialled, the one named takes the mail.
  dns_.addMx("example.test", 5, "rogue.example.test");
  dns_.addAddress("rogue.example.test", "127.0.0.1");
  start(servedRoute(policyText("enforce", {"mx.example.test"}, 86400)), good());
  DeliveryResult r = deliver();
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.mx_host, "mx.example.test");
  EXPECT_EQ(r.attempts, 1u);
  EXPECT_TRUE(r.tls.verified);
  EXPECT_EQ(arrived(), 1u);
}

TEST_F(MtaStsDelivery, EnforcedPolicyDefersWhenTheMxCertificateDoesNotVerify) {
  start(servedRoute(policyText("enforce", {"mx.example.test"}, 86400)), selfSigned());
  DeliveryResult r = deliver();
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(r.reason.find("TLS required (verify)"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("certificate verify failed"), std::string::npos) << r.reason;
  EXPECT_EQ(arrived(), 0u);
}

TEST_F(MtaStsDelivery, TestingPolicyDeliversDespiteABadCertificate) {
  start(servedRoute(policyText("testing", {"mx.example.test"}, 86400)), selfSigned());
  expectOpportunistic(deliver());
  EXPECT_EQ(policy_->requestsFor(kPolicyHost), 1u);
}

// Were either policy taken, the self-signed sink (or the MX it does not name) would defer.
TEST_F(MtaStsDelivery, BrokenPolicyBodyMeansNoPolicy) {
  start(servedRoute("version: STSv1\nmode: enforce\n"), selfSigned());  // no mx, no max_age
  expectOpportunistic(deliver());
  EXPECT_EQ(policy_->requestsFor(kPolicyHost), 1u);
}

TEST_F(MtaStsDelivery, PolicyHostWithAnExpiredCertificateMeansNoPolicy) {
  start(servedRoute(policyText("enforce", {"mx.other.test"}, 86400)), selfSigned(), true);
  expectOpportunistic(deliver());
}

}  // namespace
}  // namespace lbmail::delivery::test
