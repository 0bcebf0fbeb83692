// The initiator's routing knowledge: for every (gateway, recipient domain), an exponentially
// weighted moving average of observed delivery times, fed by every RESULT. The average decays
// with time, not with sample count: after one half-life, what was measured before weighs half,
// whether one sample or ten thousand arrived since. Before a domain has samples on a gateway,
// the gateway's reported connect RTT to the domain's receiver stands in (a prior); before
// that, the gateway's average over all domains.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lbmail {

class DeliveryTimeTable {
 public:
  enum class Source : uint8_t { kNone, kGatewayAverage, kRttPrior, kSamples };

  struct Estimate {
    double ms = std::numeric_limits<double>::quiet_NaN();  // NaN when nothing is known
    Source source = Source::kNone;
    uint64_t updated_ms = 0;  // when the last delivery sample arrived (0: never)
  };

  DeliveryTimeTable(size_t gateways, std::chrono::milliseconds half_life);

  // The dense id of a domain, adding it on first sight (domains are never removed).
  uint32_t domainId(std::string_view domain);
  size_t domains() const { return names_.size(); }
  size_t gateways() const { return gateways_; }
  const std::string& domainName(uint32_t id) const { return names_[id]; }

  // A delivery (or a deferral or failure counted as a slow sample) that took ms, observed at
  // now_ms on the initiator's clock.
  void recordDelivery(size_t gateway, uint32_t domain, double ms, uint64_t now_ms);
  // The connect RTT a gateway reported for the domain: the prior until samples exist.
  void recordRtt(size_t gateway, uint32_t domain, double rtt_ms);

  Estimate expected(size_t gateway, uint32_t domain) const;
  // The domain's row of measured means, one per gateway (NaN where nothing was measured yet):
  // what ewma reads for every decision, contiguous so that one decision touches two cache
  // lines for 16 gateways.
  const double* means(uint32_t domain) const { return &means_[static_cast<size_t>(domain) * gateways_]; }
  // The gateway's average over every domain (NaN before its first sample).
  double gatewayAverage(size_t gateway) const { return gateway_avg_[gateway].mean; }

 private:
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  struct Ewma {
    double mean = kUnknown;
    uint64_t updated_ms = 0;
  };
  // Adds x at now_ms to the average (mean, updated_ms).
  void add(double& mean, uint64_t& updated_ms, double x, uint64_t now_ms) const;

  size_t gateways_;
  double half_life_ms_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
  // Per (domain, gateway), domain-major ([domain * gateways_ + gateway]), one array per field:
  // decisions read only the means.
  std::vector<double> means_;
  std::vector<uint64_t> updated_;
  std::vector<double> rtt_prior_;
  std::vector<Ewma> gateway_avg_;
};

}  // namespace lbmail
