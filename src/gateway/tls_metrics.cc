// Counting TLS outcomes per policy for /metrics and /status.
#include "tls_metrics.h"

#include <string_view>

namespace lbmail {
namespace {

// What the delivery engine's reasons say when a TLS requirement stopped a delivery: a
// connection that could not meet it (the SMTP client's "TLS required (verify): ..."), or no MX
// host that can (HostTls refusals, "MTA-STS: MX host ... does not match", "DANE: TLSA lookup
// ... failed").
constexpr std::string_view kFailureMarkers[] = {"TLS required", "MTA-STS:", "DANE:"};

size_t indexOf(delivery::TlsPolicy p) {
  auto i = static_cast<size_t>(p);
  return i < TlsMetrics::kPolicies ? i : static_cast<size_t>(delivery::TlsPolicy::kOpportunistic);
}

}  // namespace

TlsMetrics::TlsMetrics(MetricsRegistry& metrics) : metrics_(metrics) {
  for (size_t i = 0; i < kPolicies; ++i) {
    policies_[i].failures_total = &metrics.counter(
        "lbmail_gateway_tls_failures_total",
        "Deliveries a destination's TLS policy stopped (no TLS, a certificate that did not check out).",
        {{"policy", delivery::tlsPolicyName(static_cast<delivery::TlsPolicy>(i))}});
  }
}

bool TlsMetrics::isPolicyFailure(const delivery::DeliveryResult& r) {
  if (r.outcome == delivery::DeliveryOutcome::kDelivered) return false;
  for (std::string_view marker : kFailureMarkers) {
    if (r.reason.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string TlsMetrics::versionLabel(const delivery::TlsInfo& tls) {
  return tls.version.empty() ? "none" : tls.version;
}

void TlsMetrics::count(const delivery::DeliveryResult& r) {
  PolicyCounts& p = policies_[indexOf(r.tls.policy)];
  if (isPolicyFailure(r)) {
    ++p.failures;
    p.failures_total->inc();
    return;
  }
  // A message no connection carried (DNS, connection refused) says nothing about TLS.
  if (r.mx_address.port() == 0) return;
  std::string version = versionLabel(r.tls);
  if (!versions_seen_.count(version)) {
    if (versions_seen_.size() >= kMaxVersions) version = "other";
    versions_seen_.insert(version);
  }
  ++p.messages;
  p.encrypted += !r.tls.version.empty();
  p.verified += r.tls.verified;
  ++p.versions[version];
  messagesCounter(r.tls.policy, version, r.tls.verified).inc();
}

Counter& TlsMetrics::messagesCounter(delivery::TlsPolicy policy, const std::string& version, bool verified) {
  auto key = std::make_tuple(indexOf(policy), version, verified);
  auto it = messages_.find(key);
  if (it != messages_.end()) return *it->second;
  Counter& c = metrics_.counter("lbmail_gateway_tls_messages_total",
                                "Messages a receiver answered, by the destination's TLS policy, the TLS version of "
                                "the connection (none: plain) and whether the certificate was verified.",
                                {{"policy", delivery::tlsPolicyName(policy)},
                                 {"version", version},
                                 {"verified", verified ? "true" : "false"}});
  messages_.emplace(key, &c);
  return c;
}

void TlsMetrics::writePolicies(JsonWriter& w) const {
  w.key("policies").beginObject();
  for (size_t i = 0; i < kPolicies; ++i) {
    const PolicyCounts& p = policies_[i];
    if (p.messages == 0 && p.failures == 0) continue;
    w.key(delivery::tlsPolicyName(static_cast<delivery::TlsPolicy>(i))).beginObject();
    w.field("messages", p.messages);
    w.field("encrypted", p.encrypted);
    w.field("verified", p.verified);
    w.field("failures", p.failures);
    w.key("versions").beginObject();
    for (const auto& [version, n] : p.versions) w.field(version, n);
    w.endObject();
    w.endObject();
  }
  w.endObject();
}

}  // namespace lbmail
