// Counting deliveries for /metrics.
#include "delivery_metrics.h"

#include <vector>

namespace lbmail {
namespace {

const std::vector<double> kSecondsBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60,  300};
constexpr size_t kMaxDomainClasses = 64;  // series per outcome before "other"

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// The domain class a delivery is counted under: the top-level domain ("com", "de", "test").
std::string_view domainClass(std::string_view domain) {
  size_t dot = domain.rfind('.');
  return dot == std::string_view::npos ? domain : domain.substr(dot + 1);
}

Histogram& phase(MetricsRegistry& metrics, const char* name) {
  return metrics.histogram("lbmail_gateway_delivery_seconds", "Delivery timings by phase.", kSecondsBuckets,
                           {{"phase", name}});
}

}  // namespace

DeliveryMetrics::DeliveryMetrics(MetricsRegistry& metrics)
    : metrics_(metrics),
      bytes_sent_(metrics.counter("lbmail_gateway_message_bytes_total", "Octets of messages delivered.")),
      total_seconds_(phase(metrics, "total")),
      dns_seconds_(phase(metrics, "dns")),
      connect_seconds_(phase(metrics, "connect")),
      smtp_seconds_(phase(metrics, "smtp")),
      queue_seconds_(phase(metrics, "queue")),
      tls_(metrics) {}

void DeliveryMetrics::count(std::string_view domain, const delivery::DeliveryResult& r, size_t size) {
  std::string outcome = delivery::outcomeName(r.outcome);
  std::string cls(domainClass(domain));
  auto key = std::make_pair(outcome, cls);
  auto it = deliveries_.find(key);
  if (it == deliveries_.end()) {
    if (deliveries_.size() >= kMaxDomainClasses) key.second = "other";
    it = deliveries_.find(key);
    if (it == deliveries_.end()) {
      Counter& c = metrics_.counter("lbmail_gateway_deliveries_total", "Deliveries by outcome and top-level domain.",
                                    {{"outcome", key.first}, {"domain_class", key.second}});
      it = deliveries_.emplace(key, &c).first;
    }
  }
  it->second->inc();
  if (r.outcome == delivery::DeliveryOutcome::kDelivered) bytes_sent_.inc(size);
  total_seconds_.observe(seconds(r.timings.total));
  dns_seconds_.observe(seconds(r.timings.dns));
  connect_seconds_.observe(seconds(r.timings.connect));
  smtp_seconds_.observe(seconds(r.timings.transaction));
  queue_seconds_.observe(seconds(r.timings.queue_wait));
  tls_.count(r);
}

void DeliveryMetrics::watchEngine(std::function<const delivery::DeliveryEngineStats*()> stats) {
  using Stats = delivery::DeliveryEngineStats;
  struct Entry {
    const char* name;
    const char* help;
    uint64_t Stats::*field;
  };
  static constexpr Entry kCounters[] = {
      {"lbmail_gateway_smtp_connections_opened_total", "SMTP connections opened.", &Stats::connections_opened},
      {"lbmail_gateway_smtp_transactions_reused_total", "Transactions sent on a connection that had sent before.",
       &Stats::transactions_reused},
      {"lbmail_gateway_smtp_destinations_retired_total", "Idle destination pools freed.", &Stats::pools_retired},
      {"lbmail_gateway_smtp_destinations_refused_total",
       "Addresses from DNS not dialled: loopback, private, link-local and other special ranges.",
       &Stats::destinations_refused},
      {"lbmail_gateway_tls_handshakes_total", "STARTTLS handshakes completed on SMTP connections, resumed ones included.",
       &Stats::tls_handshakes},
      {"lbmail_gateway_tls_resumed_total", "STARTTLS handshakes that resumed an earlier connection's session.",
       &Stats::tls_resumed},
      {"lbmail_gateway_tls_handshake_failures_total",
       "STARTTLS handshakes failed or timed out, or TLS required and not offered or refused.", &Stats::tls_failures},
      {"lbmail_gateway_tls_plain_fallbacks_total",
       "Opportunistic destinations gone on in plain after a failed handshake.", &Stats::tls_plain_fallbacks},
      {"lbmail_gateway_tls_policy_refusals_total", "Messages deferred because no MX host could meet the TLS policy.",
       &Stats::tls_policy_refusals},
  };
  for (const Entry& e : kCounters) {
    metrics_.counterCallback(e.name, e.help, [stats, field = e.field] {
      const Stats* s = stats();
      return s ? s->*field : 0;
    });
  }
}

}  // namespace lbmail
