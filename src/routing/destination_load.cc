// In flight per destination and gateway, and each gateway's silence.
#include "lbmail/routing/destination_load.h"

#include <algorithm>

namespace lbmail {

DestinationLoad::DestinationLoad(size_t gateways)
    : gateways_(gateways), gateway_in_flight_(gateways), last_answer_ms_(gateways), busy_since_ms_(gateways) {}

uint64_t& DestinationLoad::domainCell(uint32_t domain, size_t g) {
  size_t need = (static_cast<size_t>(domain) + 1) * gateways_;
  if (domains_.size() < need) domains_.resize(need);
  return domains_[static_cast<size_t>(domain) * gateways_ + g];
}

uint64_t& DestinationLoad::siteCell(uint32_t site, size_t g) {
  size_t need = (static_cast<size_t>(site) + 1) * gateways_;
  if (sites_.size() < need) sites_.resize(need);
  return sites_[static_cast<size_t>(site) * gateways_ + g];
}

void DestinationLoad::sent(size_t g, uint32_t domain, uint64_t now_ms) {
  if (gateway_in_flight_[g] == 0) busy_since_ms_[g] = now_ms;
  ++domainCell(domain, g);
  if (int site = siteOf(domain); site >= 0) ++siteCell(static_cast<uint32_t>(site), g);
  ++gateway_in_flight_[g];
}

void DestinationLoad::dropped(size_t g, uint32_t domain) {
  --domainCell(domain, g);
  if (int site = siteOf(domain); site >= 0) --siteCell(static_cast<uint32_t>(site), g);
  --gateway_in_flight_[g];
}

void DestinationLoad::answered(size_t g, uint32_t domain, uint64_t now_ms) {
  dropped(g, domain);
  last_answer_ms_[g] = now_ms;
}

void DestinationLoad::setSite(uint32_t domain, uint32_t site) {
  if (site_of_.size() <= domain) site_of_.resize(static_cast<size_t>(domain) + 1, -1);
  int before = site_of_[domain];
  if (before == static_cast<int>(site)) return;
  for (size_t g = 0; g < gateways_; ++g) {
    uint64_t n = domainCell(domain, g);
    if (before >= 0) siteCell(static_cast<uint32_t>(before), g) -= n;
    siteCell(site, g) += n;
  }
  site_of_[domain] = static_cast<int32_t>(site);
}

void DestinationLoad::fill(uint32_t domain, uint64_t now_ms, std::span<GatewayLoad> loads) const {
  int site = siteOf(domain);
  const std::vector<uint64_t>& cells = site >= 0 ? sites_ : domains_;
  size_t row = static_cast<size_t>(site >= 0 ? static_cast<uint32_t>(site) : domain) * gateways_;
  for (size_t g = 0; g < loads.size() && g < gateways_; ++g) {
    loads[g].in_flight = row + g < cells.size() ? cells[row + g] : 0;
    // Silent since its last answer, or since it was last idle if it has not answered since:
    // what is in flight there has waited at least that long.
    uint64_t since = std::max(last_answer_ms_[g], busy_since_ms_[g]);
    loads[g].silent_ms = gateway_in_flight_[g] > 0 && now_ms > since ? static_cast<double>(now_ms - since) : 0;
  }
}

uint64_t DestinationLoad::domainInFlight(uint32_t domain) const {
  uint64_t n = 0;
  size_t row = static_cast<size_t>(domain) * gateways_;
  for (size_t g = 0; g < gateways_ && row + g < domains_.size(); ++g) n += domains_[row + g];
  return n;
}

}  // namespace lbmail
