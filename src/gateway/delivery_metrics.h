// The gateway's delivery metrics: outcomes by top-level domain, octets delivered, the timing of
// each phase and the TLS outcomes per policy, counted from every DeliveryResult.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "lbmail/core/metrics_registry.h"
#include "lbmail/delivery/delivery_result.h"
#include "tls_metrics.h"

namespace lbmail {

class DeliveryMetrics {
 public:
  explicit DeliveryMetrics(MetricsRegistry& metrics);

  void count(std::string_view domain, const delivery::DeliveryResult& r, size_t size);
  uint64_t bytesSent() const { return bytes_sent_.value(); }
  const TlsMetrics& tls() const { return tls_; }

 private:
  MetricsRegistry& metrics_;
  Counter& bytes_sent_;
  Histogram& total_seconds_;
  Histogram& dns_seconds_;
  Histogram& connect_seconds_;
  Histogram& smtp_seconds_;
  Histogram& queue_seconds_;
  std::map<std::pair<std::string, std::string>, Counter*> deliveries_;  // (outcome, class)
  TlsMetrics tls_;
};

}  // namespace lbmail
