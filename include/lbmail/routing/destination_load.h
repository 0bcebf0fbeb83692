// What ewma weighs beside the delivery-time table: the messages in flight to each destination on
// each gateway, and how long each gateway has been silent. A destination is the domain's
// receiving site once a gateway has named it (the gateways queue and connect per receiver, and
// a site's domains share its connections), the domain before that. The campaign's dispatcher
// and the sim's model world keep it the same way, so the model measures the campaign's policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lbmail/routing/gateway_selector.h"

namespace lbmail {

class DestinationLoad {
 public:
  explicit DestinationLoad(size_t gateways);

  // A SEND to gateway g for the domain; its answer (RESULT or REJECT); its loss with the link
  // (no answer: the gateway's silence goes on).
  void sent(size_t g, uint32_t domain, uint64_t now_ms);
  void answered(size_t g, uint32_t domain, uint64_t now_ms);
  void dropped(size_t g, uint32_t domain);
  // The domain's site from now on: what is in flight to the domain counts toward the site.
  void setSite(uint32_t domain, uint32_t site);

  // Fills in_flight (to the domain's destination) and silent_ms of every gateway's load.
  void fill(uint32_t domain, uint64_t now_ms, std::span<GatewayLoad> loads) const;

  uint64_t inFlight(size_t g) const { return gateway_in_flight_[g]; }
  uint64_t domainInFlight(uint32_t domain) const;
  uint64_t domainInFlight(uint32_t domain, size_t g) const {
    size_t i = static_cast<size_t>(domain) * gateways_ + g;
    return i < domains_.size() ? domains_[i] : 0;
  }

 private:
  // Per (domain or site, gateway), domain- or site-major; grown on first sight.
  uint64_t& domainCell(uint32_t domain, size_t g);
  uint64_t& siteCell(uint32_t site, size_t g);
  int siteOf(uint32_t domain) const { return domain < site_of_.size() ? site_of_[domain] : -1; }

  size_t gateways_;
  std::vector<uint64_t> domains_;
  std::vector<uint64_t> sites_;
  std::vector<int32_t> site_of_;
  std::vector<uint64_t> gateway_in_flight_;
  // When the gateway last answered anything, and when it last went from nothing in flight to
  // something: its silence is counted from the later.
  std::vector<uint64_t> last_answer_ms_;
  std::vector<uint64_t> busy_since_ms_;
};

}  // namespace lbmail
