// Tests for the gateway's TLS figures: the Prometheus series per policy, version and
// verification, the failures a policy caused, and the /status member.
#include "tls_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace lbmail {
namespace {

using delivery::DeliveryOutcome;
using delivery::DeliveryResult;
using delivery::TlsPolicy;

// A result carried by a connection to an MX.
DeliveryResult carried(TlsPolicy policy, std::string version, bool verified) {
  DeliveryResult r;
  r.outcome = DeliveryOutcome::kDelivered;
  r.mx_address = *SocketAddress::parse("192.0.2.1:25");
  r.tls.policy = policy;
  r.tls.version = std::move(version);
  r.tls.verified = verified;
  return r;
}

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(TlsMetrics, CountsMessagesByPolicyVersionAndVerification) {
  MetricsRegistry registry;
  TlsMetrics m(registry);
  m.count(carried(TlsPolicy::kOpportunistic, "", false));
  m.count(carried(TlsPolicy::kOpportunistic, "", false));
  m.count(carried(TlsPolicy::kOpportunistic, "TLSv1.3", false));
  m.count(carried(TlsPolicy::kVerify, "TLSv1.3", true));
  std::string text = registry.renderPrometheus();
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_messages_total{policy="opportunistic",version="none",verified="false"} 2)"))
      << text;
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_messages_total{policy="opportunistic",version="TLSv1.3",verified="false"} 1)"));
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_messages_total{policy="verify",version="TLSv1.3",verified="true"} 1)"));
  // Every policy's failure series exists from the start, at 0.
  for (const char* policy : {"none", "opportunistic", "encrypt", "verify", "dane", "mta-sts"}) {
    EXPECT_TRUE(has(text, std::string("lbmail_gateway_tls_failures_total{policy=\"") + policy + "\"} 0")) << policy;
  }
}

TEST(TlsMetrics, APolicyFailureIsCountedAsOneAndNotAsAMessage) {
  MetricsRegistry registry;
  TlsMetrics m(registry);
  DeliveryResult r;  // what the engine gives when every MX host failed the requirement
  r.outcome = DeliveryOutcome::kDeferred;
  r.reason = "no MX host took it; last: TLS required (verify): certificate verify failed (hostname mismatch)";
  r.tls.policy = TlsPolicy::kVerify;
  m.count(r);
  DeliveryResult sts;
  sts.outcome = DeliveryOutcome::kDeferred;
  sts.reason = "MTA-STS: no MX host matches the policy";
  sts.tls.policy = TlsPolicy::kMtaSts;
  m.count(sts);
  DeliveryResult dane;
  dane.outcome = DeliveryOutcome::kDeferred;
  dane.reason = "DANE: TLSA lookup for mx.d.test failed: SERVFAIL";
  dane.tls.policy = TlsPolicy::kDane;
  m.count(dane);
  std::string text = registry.renderPrometheus();
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_failures_total{policy="verify"} 1)")) << text;
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_failures_total{policy="mta-sts"} 1)"));
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_failures_total{policy="dane"} 1)"));
  EXPECT_EQ(text.find("lbmail_gateway_tls_messages_total{"), std::string::npos);
}

TEST(TlsMetrics, MessagesNoConnectionCarriedAreNotCounted) {
  MetricsRegistry registry;
  TlsMetrics m(registry);
  DeliveryResult r;
  r.outcome = DeliveryOutcome::kDeferred;
  r.reason = "DNS: timeout";
  m.count(r);
  DeliveryResult delivered_plain = carried(TlsPolicy::kNone, "", false);
  delivered_plain.reason = "TLS required is not a failure when delivered";
  m.count(delivered_plain);
  std::string text = registry.renderPrometheus();
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_messages_total{policy="none",version="none",verified="false"} 1)")) << text;
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_failures_total{policy="none"} 0)"));
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_failures_total{policy="opportunistic"} 0)"));
}

TEST(TlsMetrics, VersionLabelsAreBoundedWhateverThePeersSay) {
  MetricsRegistry registry;
  TlsMetrics m(registry);
  for (size_t i = 0; i < TlsMetrics::kMaxVersions + 5; ++i) {
    m.count(carried(TlsPolicy::kOpportunistic, "v" + std::to_string(i), false));
  }
  std::string text = registry.renderPrometheus();
  EXPECT_TRUE(has(text, R"(lbmail_gateway_tls_messages_total{policy="opportunistic",version="other",verified="false"} 5)"))
      << text;
  EXPECT_EQ(text.find("version=\"v" + std::to_string(TlsMetrics::kMaxVersions) + "\""), std::string::npos);
}

TEST(TlsMetrics, StatusShowsEachPolicyThatSawAMessage) {
  MetricsRegistry registry;
  TlsMetrics m(registry);
  m.count(carried(TlsPolicy::kOpportunistic, "", false));
  m.count(carried(TlsPolicy::kOpportunistic, "TLSv1.3", true));
  m.count(carried(TlsPolicy::kOpportunistic, "TLSv1.2", false));
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  m.writePolicies(w);
  w.endObject();
  EXPECT_EQ(out,
            R"({"policies":{"opportunistic":{"messages":3,"encrypted":2,"verified":1,"failures":0,)"
            R"("versions":{"TLSv1.2":1,"TLSv1.3":1,"none":1}}}})");
}

}  // namespace
}  // namespace lbmail
