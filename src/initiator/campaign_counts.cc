// The campaign's counters and the metrics they feed.
#include "campaign_counts.h"

namespace lbmail {

CampaignCounts::CampaignCounts(size_t gateways, MetricsRegistry& metrics)
    : gateways_(gateways),
      sent_total_(metrics.counter("lbmail_initiator_sent_total", "SEND requests put on gateway links")),
      failover_total_(
          metrics.counter("lbmail_initiator_failovers_total", "requests sent again elsewhere after their link died")),
      metrics_(metrics) {
  for (RecipientState s :
       {RecipientState::kDelivered, RecipientState::kDeferred, RecipientState::kBounced, RecipientState::kFailed,
        RecipientState::kSuppressed}) {
    outcome_total_[index(s)] =
        &metrics.counter("lbmail_initiator_outcomes_total", "outcomes recorded, deferrals included",
                         {{"outcome", std::string(recipientStateName(s))}});
  }
}

void CampaignCounts::sent(size_t g, uint32_t domain) {
  ++gateways_[g].sent;
  sent_total_.inc();
  if (domain >= domain_sent_.size()) domain_sent_.resize(domain + 1);
  ++domain_sent_[domain];
}

void CampaignCounts::result(size_t g, RecipientState s, std::string_view tls, bool tls_verified) {
  ++gateways_[g].results[index(s)];
  ++results_in_second_;
  if (s != RecipientState::kDelivered) return;
  std::string name = tls.empty() ? "unknown" : std::string(tls);
  if (!by_tls_.count(name) && by_tls_.size() >= kMaxTlsNames) name = "other";
  TlsDeliveries& t = by_tls_[name];
  ++t.delivered;
  t.verified += tls_verified;
  Counter*& total = tls_total_[{name, tls_verified}];
  if (!total) {
    total = &metrics_.counter("lbmail_initiator_delivered_tls_total",
                              "deliveries by the TLS of the gateway's SMTP connection (none: plain; unknown: not said)",
                              {{"tls", name}, {"verified", tls_verified ? "true" : "false"}});
  }
  total->inc();
}

std::string_view shapingEventName(ShapingEvent e) {
  switch (e) {
    case ShapingEvent::kSiteUnavailable: return "site_unavailable";
    case ShapingEvent::kThrottleRequeue: return "throttle_requeue";
    case ShapingEvent::kBlockReroute: return "block_reroute";
  }
  return "other";
}

void CampaignCounts::shaped(size_t g, ShapingEvent e, std::string_view gateway) {
  size_t i = static_cast<size_t>(e);
  ++gateways_[g].shaped[i];
  Counter*& total = gateways_[g].shaped_total[i];
  if (!total) {
    total = &metrics_.counter("lbmail_initiator_routed_around_total",
                              "recipients routed around a gateway's shaping: a site unavailable there (REJECT), a "
                              "throttle (requeued), a block (rerouted)",
                              {{"gateway", std::string(gateway)}, {"reason", std::string(shapingEventName(e))}});
  }
  total->inc();
}

void CampaignCounts::changed(RecipientState s) {
  ++changes_[index(s)];
  outcome_total_[index(s)]->inc();
}

void CampaignCounts::endSecond(double seconds) {
  double r = static_cast<double>(results_in_second_) / seconds;
  rate_ = rate_ == 0 ? r : 0.7 * rate_ + 0.3 * r;
  results_in_second_ = 0;
}

uint64_t CampaignCounts::sent() const {
  uint64_t n = 0;
  for (const Gateway& g : gateways_) n += g.sent;
  return n;
}

}  // namespace lbmail
