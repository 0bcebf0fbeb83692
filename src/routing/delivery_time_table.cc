// Time-decayed EWMAs per (gateway, domain).
#include "lbmail/routing/delivery_time_table.h"

#include <cmath>

namespace lbmail {

DeliveryTimeTable::DeliveryTimeTable(size_t gateways, std::chrono::milliseconds half_life,
                                     std::chrono::milliseconds stale_after)
    : gateways_(gateways),
      half_life_ms_(static_cast<double>(half_life.count())),
      stale_after_ms_(static_cast<uint64_t>(stale_after.count())),
      gateway_avg_(gateways) {}

void DeliveryTimeTable::add(Average& a, double x, uint64_t now_ms) const {
  if (std::isnan(a.mean)) {
    a.mean = x;
  } else {
    // The old mean keeps 2^(-dt / half-life) of its weight. Samples at one instant still move
    // it a little (at least 1/64), so a burst is not ignored.
    double dt = now_ms > a.updated_ms ? static_cast<double>(now_ms - a.updated_ms) : 0.0;
    double keep = std::min(std::exp2(-dt / half_life_ms_), 63.0 / 64.0);
    a.mean = keep * a.mean + (1 - keep) * x;
  }
  a.updated_ms = now_ms;
}

uint32_t DeliveryTimeTable::domainId(std::string_view domain) {
  auto it = ids_.find(std::string(domain));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(domain);
  ids_.emplace(names_.back(), id);
  cells_.resize(cells_.size() + gateways_);
  rtt_prior_.resize(rtt_prior_.size() + gateways_, kUnknown);
  site_of_.push_back(-1);
  return id;
}

void DeliveryTimeTable::recordDelivery(size_t gateway, uint32_t domain, double ms, uint64_t now_ms) {
  size_t i = static_cast<size_t>(domain) * gateways_ + gateway;
  add(cells_[i], ms, now_ms);
  if (int site = site_of_[domain]; site >= 0) add(site_cells_[static_cast<size_t>(site) * gateways_ + gateway], ms, now_ms);
  add(gateway_avg_[gateway], ms, now_ms);
}

void DeliveryTimeTable::recordRtt(size_t gateway, uint32_t domain, double rtt_ms) {
  rtt_prior_[static_cast<size_t>(domain) * gateways_ + gateway] = rtt_ms;
}

void DeliveryTimeTable::setSite(uint32_t domain, uint32_t site) {
  site_of_[domain] = static_cast<int32_t>(site);
  size_t need = (static_cast<size_t>(site) + 1) * gateways_;
  if (site_cells_.size() < need) site_cells_.resize(need);
}

DeliveryTimeTable::Estimate DeliveryTimeTable::expected(size_t gateway, uint32_t domain) const {
  size_t i = static_cast<size_t>(domain) * gateways_ + gateway;
  if (const Average& m = measured(gateway, domain); !std::isnan(m.mean)) {
    return {m.mean, &m == &cells_[i] ? Source::kSamples : Source::kSiteSamples, m.updated_ms};
  }
  if (!std::isnan(rtt_prior_[i])) return {rtt_prior_[i], Source::kRttPrior, 0};
  const Average& g = gateway_avg_[gateway];
  if (!std::isnan(g.mean)) return {g.mean, Source::kGatewayAverage, 0};
  return {};
}

}  // namespace lbmail
