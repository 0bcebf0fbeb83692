// The campaign's counters, each fact kept once: /status, the progress line and the metrics all
// read (or are fed) from here, in the one place each is counted.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/core/metrics_registry.h"
#include "recipient_state.h"

namespace lbmail {

// Recipients routed around a gateway's shaping (issue 20).
enum class ShapingEvent : uint8_t {
  kSiteUnavailable,  // REJECT kSiteUnavailable: the site is suspended or out of warm-up there
  kThrottleRequeue,  // a throttle reply: requeued for another gateway
  kBlockReroute,     // a block (or policy) refusal: rerouted through another gateway
};
constexpr size_t kShapingEvents = 3;
std::string_view shapingEventName(ShapingEvent e);

class CampaignCounts {
 public:
  CampaignCounts(size_t gateways, MetricsRegistry& metrics);

  // A SEND put on gateway g's link for a recipient at the domain.
  void sent(size_t g, uint32_t domain);
  // A RESULT from gateway g, by the state its outcome names (deferred for a deferral), with the
  // TLS it names (tlsOf: a version, "none", or "" from an older gateway): deliveries are counted
  // by it.
  void result(size_t g, RecipientState s, std::string_view tls = "", bool tls_verified = false);
  // A state change recorded this run: a final state or a deferral.
  void changed(RecipientState s);
  void failedOver() { ++failovers_, failover_total_.inc(); }
  void rejected() { ++rejects_; }
  // Gateway g (named gateway, for the metric's label) had a recipient routed around it.
  void shaped(size_t g, ShapingEvent e, std::string_view gateway);
  // Once a second: the smoothed rate of RESULTs.
  void endSecond(double seconds);

  uint64_t sent() const;
  uint64_t sent(size_t g) const { return gateways_[g].sent; }
  uint64_t results(size_t g, RecipientState s) const { return gateways_[g].results[index(s)]; }
  uint64_t changes(RecipientState s) const { return changes_[index(s)]; }
  uint64_t failovers() const { return failovers_; }
  uint64_t rejects() const { return rejects_; }
  uint64_t shaped(size_t g, ShapingEvent e) const { return gateways_[g].shaped[static_cast<size_t>(e)]; }
  double resultsPerSecond() const { return rate_; }
  size_t domains() const { return domain_sent_.size(); }

  // Deliveries by the TLS their RESULT named ("unknown": it named none), and of them verified.
  struct TlsDeliveries {
    uint64_t delivered = 0;
    uint64_t verified = 0;
  };
  const std::map<std::string, TlsDeliveries>& deliveriesByTls() const { return by_tls_; }
  // Distinct TLS names before "other": the names come from the gateways.
  static constexpr size_t kMaxTlsNames = 8;
  uint64_t domainSent(uint32_t domain) const { return domain < domain_sent_.size() ? domain_sent_[domain] : 0; }

 private:
  static size_t index(RecipientState s) { return static_cast<size_t>(s); }
  struct Gateway {
    uint64_t sent = 0;
    std::array<uint64_t, kRecipientStates> results{};  // by RecipientState
    std::array<uint64_t, kShapingEvents> shaped{};
    std::array<Counter*, kShapingEvents> shaped_total{};  // created on first use
  };

  std::vector<Gateway> gateways_;
  std::vector<uint64_t> domain_sent_;  // by domain id
  std::array<uint64_t, kRecipientStates> changes_{};  // by RecipientState
  uint64_t failovers_ = 0;
  uint64_t rejects_ = 0;
  uint64_t results_in_second_ = 0;
  std::map<std::string, TlsDeliveries> by_tls_;
  std::map<std::pair<std::string, bool>, Counter*> tls_total_;  // by (name, verified)
  double rate_ = 0;

  Counter& sent_total_;
  std::array<Counter*, kRecipientStates> outcome_total_{};  // by RecipientState
  Counter& failover_total_;
  MetricsRegistry& metrics_;
};

}  // namespace lbmail
