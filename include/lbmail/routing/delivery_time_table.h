// The initiator's routing knowledge: for every (gateway, recipient domain), an exponentially
// weighted moving average of observed delivery times, fed by every RESULT. The average decays
// with time, not with sample count: after one half-life, what was measured before weighs half,
// whether one sample or ten thousand arrived since.
//
// Domains that share a receiving site (the gateways name it: MX rollup) share the path and the
// receiver, so the table also keeps an average per (gateway, site), fed by every domain of the
// site. A domain's own entry is its estimate while it is about as fresh as its site's; a
// domain not measured on a gateway, or measured there long before its site was, takes its
// site's (one measurement of a site serves its every domain: a new domain on a known site
// needs no probes, and refreshing a site refreshes them all). Before either, the gateway's
// reported connect RTT to the domain's receiver stands in (a prior); before that, the
// gateway's average over all domains.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lbmail {

class DeliveryTimeTable {
 public:
  enum class Source : uint8_t { kNone, kGatewayAverage, kRttPrior, kSiteSamples, kSamples };

  struct Estimate {
    double ms = std::numeric_limits<double>::quiet_NaN();  // NaN when nothing is known
    Source source = Source::kNone;
    uint64_t updated_ms = 0;  // when the last delivery sample arrived (0: never)
  };

  // A domain's entry older than its site's by more than stale_after gives way to the site's.
  DeliveryTimeTable(size_t gateways, std::chrono::milliseconds half_life,
                    std::chrono::milliseconds stale_after = std::chrono::seconds(5));

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
  // The domain's receiving site (a dense id the caller keeps, as the initiator's SiteTable
  // does); from now on its samples feed the site too.
  void setSite(uint32_t domain, uint32_t site);
  int siteOf(uint32_t domain) const { return site_of_[domain]; }

  Estimate expected(size_t gateway, uint32_t domain) const;
  // A time-decayed average and when it was last fed.
  struct Average {
    double mean = std::numeric_limits<double>::quiet_NaN();  // NaN: no sample yet
    uint64_t updated_ms = 0;
  };
  // A domain's measurements on every gateway, its own and its site's: what ewma reads for
  // every decision (two rows of 16-byte cells, side by side per gateway).
  struct Row {
    const Average* own;
    const Average* site;  // nullptr: the domain's site is not known
    uint64_t stale_after_ms;
    // The measured estimate on gateway g (NaN when neither is measured): the site's when the
    // domain's is missing or was fed long before the site's.
    const Average& at(size_t g) const {
      if (site && (std::isnan(own[g].mean) || own[g].updated_ms + stale_after_ms < site[g].updated_ms)) return site[g];
      return own[g];
    }
    // When gateway g last measured the domain or its site (0: never): a domain is due for a
    // refresh on a gateway only when neither was measured there lately.
    uint64_t lastMeasured(size_t g) const {
      uint64_t mine = std::isnan(own[g].mean) ? 0 : own[g].updated_ms;
      uint64_t its_site = !site || std::isnan(site[g].mean) ? 0 : site[g].updated_ms;
      return std::max(mine, its_site);
    }
  };
  Row row(uint32_t domain) const {
    size_t i = static_cast<size_t>(domain) * gateways_;
    int site = site_of_[domain];
    return {&cells_[i], site < 0 ? nullptr : &site_cells_[static_cast<size_t>(site) * gateways_], stale_after_ms_};
  }
  const Average& measured(size_t gateway, uint32_t domain) const { return row(domain).at(gateway); }
  // The gateway's average over every domain (NaN before its first sample).
  double gatewayAverage(size_t gateway) const { return gateway_avg_[gateway].mean; }

 private:
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  // Adds x at now_ms to the average.
  void add(Average& a, double x, uint64_t now_ms) const;

  size_t gateways_;
  double half_life_ms_;
  uint64_t stale_after_ms_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
  // Per (domain, gateway), domain-major: cells_[domain * gateways_ + gateway].
  std::vector<Average> cells_;
  std::vector<double> rtt_prior_;
  std::vector<int32_t> site_of_;  // per domain, -1: not known
  std::vector<Average> site_cells_;  // per (site, gateway), site-major
  std::vector<Average> gateway_avg_;
};

}  // namespace lbmail
