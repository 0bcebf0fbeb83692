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

}  // namespace lbmail
