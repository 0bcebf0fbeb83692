// Time-decayed EWMAs per (gateway, domain).
#include "lbmail/routing/delivery_time_table.h"

#include <cmath>

namespace lbmail {

DeliveryTimeTable::DeliveryTimeTable(size_t gateways, std::chrono::milliseconds half_life)
    : gateways_(gateways), half_life_ms_(static_cast<double>(half_life.count())), gateway_avg_(gateways) {}

void DeliveryTimeTable::Ewma::add(double x, uint64_t now_ms, double half_life_ms) {
  if (std::isnan(mean)) {
    mean = x;
  } else {
    // The old mean keeps 2^(-dt / half-life) of its weight. Samples at one instant still move
    // it a little (at least 1/64), so a burst is not ignored.
    double dt = now_ms > updated_ms ? static_cast<double>(now_ms - updated_ms) : 0.0;
    double keep = std::min(std::exp2(-dt / half_life_ms), 63.0 / 64.0);
    mean = keep * mean + (1 - keep) * x;
  }
  updated_ms = now_ms;
}

uint32_t DeliveryTimeTable::domainId(std::string_view domain) {
  auto it = ids_.find(std::string(domain));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(domain);
  ids_.emplace(names_.back(), id);
  cells_.resize(cells_.size() + gateways_);
  return id;
}

void DeliveryTimeTable::recordDelivery(size_t gateway, uint32_t domain, double ms, uint64_t now_ms) {
  cells_[domain * gateways_ + gateway].delivery.add(ms, now_ms, half_life_ms_);
  gateway_avg_[gateway].add(ms, now_ms, half_life_ms_);
}

void DeliveryTimeTable::recordRtt(size_t gateway, uint32_t domain, double rtt_ms) {
  cells_[domain * gateways_ + gateway].rtt_prior_ms = rtt_ms;
}

DeliveryTimeTable::Estimate DeliveryTimeTable::expected(size_t gateway, uint32_t domain) const {
  const Cell& c = cells_[domain * gateways_ + gateway];
  if (!std::isnan(c.delivery.mean)) return {c.delivery.mean, Source::kSamples, c.delivery.updated_ms};
  if (!std::isnan(c.rtt_prior_ms)) return {c.rtt_prior_ms, Source::kRttPrior, 0};
  const Ewma& g = gateway_avg_[gateway];
  if (!std::isnan(g.mean)) return {g.mean, Source::kGatewayAverage, 0};
  return {};
}

}  // namespace lbmail
