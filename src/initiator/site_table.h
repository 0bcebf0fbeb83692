// What the initiator knows of the gateways' shaping (issue 20): each recipient domain's site
// (the receiving provider, or its MX hosts: what a gateway shapes by), learned from RESULTs and
// REJECTs; each gateway's last SITES report (a full snapshot: a site it leaves out is not
// shaped there); and per (gateway, site) the SENDs in flight and those sent since that
// gateway's last report, which its figures do not count yet. From these it says whether a
// gateway can take a message for a domain now and how long a throttled one makes it wait. No
// I/O and no clock: the caller passes now.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lbmail/proto/frames.h"

namespace lbmail {

class SiteTable {
 public:
  static constexpr int kUnknown = -1;

  // A site as a gateway reported it, with when the report arrived.
  struct Reported {
    uint32_t site = 0;
    uint32_t suspended_ms = 0;  // left of the suspension when received
    uint32_t rate_millis = 0;   // messages per second × 1000; 0: not throttled
    uint32_t queued = 0;
    uint32_t warmup_left = proto::SiteStatus::kNoWarmupCap;
    uint64_t received_ms = 0;
  };

  explicit SiteTable(size_t gateways);

  // The site's id (interned on first use).
  uint32_t intern(std::string_view site);
  std::string_view name(uint32_t site) const { return names_[site]; }
  // The domain's site, or kUnknown.
  int siteOf(uint32_t domain) const;
  // A gateway named the domain's site; returns the site it had before (kUnknown, or the same).
  int learn(uint32_t domain, std::string_view site);

  // Gateway g's SITES frame, received at now_ms: it replaces all that g said before.
  void report(size_t g, const proto::SitesFrame& frame, uint64_t now_ms);
  // Gateway g refused a message for the site (REJECT kSiteUnavailable) at now_ms: it may not
  // send there, whatever its last report said, for kRefusedHoldMs or until its next report.
  void refused(size_t g, std::string_view site, uint64_t now_ms);
  static constexpr uint32_t kRefusedHoldMs = 5000;
  // Gateway g's link went down: what it said no longer holds (it reports again once back).
  void forget(size_t g);
  const std::vector<Reported>& reported(size_t g) const { return views_[g]; }

  // SENDs to the site on gateway g: n more in flight (sent), or n fewer (answered, dropped).
  void sent(size_t g, uint32_t site);
  void moveInFlight(size_t g, int from, int to, uint32_t n);
  void done(size_t g, uint32_t site, uint32_t n = 1);
  uint32_t inFlight(size_t g, uint32_t site) const;
  uint32_t sentSinceReport(size_t g, uint32_t site) const;

  // Whether gateway g may not send to the site now: suspended (the time left when it reported
  // has not passed), or today's warm-up cap used up (what was left then, less what was sent
  // since, is none).
  bool unavailable(size_t g, uint32_t site, uint64_t now_ms) const;
  // The wait a throttled site adds at gateway g, in ms: the messages ahead of this one and this
  // one ((in flight + 1)) at the rate it allows. 0 when the site is not throttled there.
  double throttleWaitMs(size_t g, uint32_t site) const;

 private:
  // Per (gateway, site).
  struct Flow {
    uint32_t in_flight = 0;
    uint32_t sent_since_report = 0;
    int reported = -1;  // index into views_[g], or -1: not shaped there
  };
  Flow& flow(size_t g, uint32_t site);
  const Flow* findFlow(size_t g, uint32_t site) const;
  const Reported* status(size_t g, uint32_t site) const;

  size_t gateways_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<int> domain_site_;            // by domain id
  std::vector<Flow> flows_;                 // site-major: flows_[site * gateways_ + g]
  std::vector<std::vector<Reported>> views_;  // per gateway: its last report
};

}  // namespace lbmail
