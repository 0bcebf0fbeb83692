// Time-decayed EWMAs per (gateway, domain).
#include "lbmail/routing/delivery_time_table.h"

#include <cmath>

namespace lbmail {

DeliveryTimeTable::DeliveryTimeTable(size_t gateways, std::chrono::milliseconds half_life)
    : gateways_(gateways), half_life_ms_(static_cast<double>(half_life.count())), gateway_avg_(gateways) {}

void DeliveryTimeTable::add(double& mean, uint64_t& updated_ms, double x, uint64_t now_ms) const {
  if (std::isnan(mean)) {
    mean = x;
  } else {
    // The old mean keeps 2^(-dt / half-life) of its weight. Samples at one instant still move
    // it a little (at least 1/64), so a burst is not ignored.
    double dt = now_ms > updated_ms ? static_cast<double>(now_ms - updated_ms) : 0.0;
    double keep = std::min(std::exp2(-dt / half_life_ms_), 63.0 / 64.0);
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
  means_.resize(means_.size() + gateways_, kUnknown);
  updated_.resize(updated_.size() + gateways_, 0);
  rtt_prior_.resize(rtt_prior_.size() + gateways_, kUnknown);
  return id;
}

void DeliveryTimeTable::recordDelivery(size_t gateway, uint32_t domain, double ms, uint64_t now_ms) {
  size_t i = static_cast<size_t>(domain) * gateways_ + gateway;
  add(means_[i], updated_[i], ms, now_ms);
  add(gateway_avg_[gateway].mean, gateway_avg_[gateway].updated_ms, ms, now_ms);
}

void DeliveryTimeTable::recordRtt(size_t gateway, uint32_t domain, double rtt_ms) {
  rtt_prior_[static_cast<size_t>(domain) * gateways_ + gateway] = rtt_ms;
}

DeliveryTimeTable::Estimate DeliveryTimeTable::expected(size_t gateway, uint32_t domain) const {
  size_t i = static_cast<size_t>(domain) * gateways_ + gateway;
  if (!std::isnan(means_[i])) return {means_[i], Source::kSamples, updated_[i]};
  if (!std::isnan(rtt_prior_[i])) return {rtt_prior_[i], Source::kRttPrior, 0};
  const Ewma& g = gateway_avg_[gateway];
  if (!std::isnan(g.mean)) return {g.mean, Source::kGatewayAverage, 0};
  return {};
}

}  // namespace lbmail
