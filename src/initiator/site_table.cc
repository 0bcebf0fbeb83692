// Sites, the gateways' SITES reports, and what was sent to each site since.
#include "site_table.h"

#include <algorithm>

namespace lbmail {

SiteTable::SiteTable(size_t gateways) : gateways_(gateways), views_(gateways) {}

uint32_t SiteTable::intern(std::string_view site) {
  auto it = ids_.find(std::string(site));
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(site);
  ids_.emplace(names_.back(), id);
  flows_.resize(names_.size() * gateways_);
  return id;
}

int SiteTable::siteOf(uint32_t domain) const {
  return domain < domain_site_.size() ? domain_site_[domain] : kUnknown;
}

int SiteTable::learn(uint32_t domain, std::string_view site) {
  // A gateway that does not know the site says "": that teaches nothing.
  if (site.empty()) return siteOf(domain);
  if (domain_site_.size() <= domain) domain_site_.resize(static_cast<size_t>(domain) + 1, kUnknown);
  int before = domain_site_[domain];
  domain_site_[domain] = static_cast<int>(intern(site));
  return before;
}

void SiteTable::report(size_t g, const proto::SitesFrame& frame, uint64_t now_ms) {
  if (g >= gateways_) return;
  forget(g);
  // Counted from the report's arrival: what was sent before is in its figures, or reaches the
  // gateway within a round trip (the gateway's own cap refuses any overshoot, as a REJECT).
  for (size_t s = 0; s < names_.size(); ++s) flows_[s * gateways_ + g].sent_since_report = 0;
  std::vector<Reported>& view = views_[g];
  for (const proto::SiteStatus& s : frame.sites) {
    uint32_t id = intern(s.site);
    Flow& f = flow(g, id);
    if (f.reported >= 0) continue;  // named twice: the first one stands
    f.reported = static_cast<int>(view.size());
    view.push_back({id, s.suspended_ms, s.rate_millis, s.queued, s.warmup_left, now_ms});
  }
}

// The refusal comes before the report that says why (reports go out at most once per
// report_interval): until then the gateway counts as suspended there, so that the rest of the
// site's recipients are not each sent there and back.
void SiteTable::refused(size_t g, std::string_view name, uint64_t now_ms) {
  if (g >= gateways_ || name.empty()) return;
  uint32_t site = intern(name);
  Flow& f = flow(g, site);
  if (f.reported < 0) {
    f.reported = static_cast<int>(views_[g].size());
    views_[g].push_back({site});
  }
  Reported& r = views_[g][static_cast<size_t>(f.reported)];
  uint64_t until = r.received_ms + r.suspended_ms;
  if (until >= now_ms + kRefusedHoldMs) return;  // suspended longer already
  r.suspended_ms = kRefusedHoldMs;
  r.received_ms = now_ms;
}

void SiteTable::forget(size_t g) {
  if (g >= gateways_) return;
  for (const Reported& r : views_[g]) flow(g, r.site).reported = -1;
  views_[g].clear();
}

void SiteTable::sent(size_t g, uint32_t site) {
  Flow& f = flow(g, site);
  ++f.in_flight;
  ++f.sent_since_report;
}

void SiteTable::moveInFlight(size_t g, int from, int to, uint32_t n) {
  if (n == 0 || from == to) return;
  if (from >= 0) done(g, static_cast<uint32_t>(from), n);
  if (to >= 0) flow(g, static_cast<uint32_t>(to)).in_flight += n;
}

void SiteTable::done(size_t g, uint32_t site, uint32_t n) {
  Flow& f = flow(g, site);
  f.in_flight -= std::min(f.in_flight, n);
}

uint32_t SiteTable::inFlight(size_t g, uint32_t site) const {
  const Flow* f = findFlow(g, site);
  return f ? f->in_flight : 0;
}

uint32_t SiteTable::sentSinceReport(size_t g, uint32_t site) const {
  const Flow* f = findFlow(g, site);
  return f ? f->sent_since_report : 0;
}

bool SiteTable::unavailable(size_t g, uint32_t site, uint64_t now_ms) const {
  const Reported* r = status(g, site);
  if (!r) return false;
  if (r->suspended_ms > 0 && now_ms < r->received_ms + r->suspended_ms) return true;
  if (r->warmup_left == proto::SiteStatus::kNoWarmupCap) return false;
  return static_cast<int64_t>(r->warmup_left) - static_cast<int64_t>(sentSinceReport(g, site)) <= 0;
}

double SiteTable::throttleWaitMs(size_t g, uint32_t site) const {
  const Reported* r = status(g, site);
  if (!r || r->rate_millis == 0) return 0;
  // rate_millis / 1000 messages per second: each takes 1e6 / rate_millis ms.
  return (static_cast<double>(inFlight(g, site)) + 1) * 1e6 / static_cast<double>(r->rate_millis);
}

SiteTable::Flow& SiteTable::flow(size_t g, uint32_t site) { return flows_[site * gateways_ + g]; }

const SiteTable::Flow* SiteTable::findFlow(size_t g, uint32_t site) const {
  size_t i = static_cast<size_t>(site) * gateways_ + g;
  return g < gateways_ && i < flows_.size() ? &flows_[i] : nullptr;
}

const SiteTable::Reported* SiteTable::status(size_t g, uint32_t site) const {
  const Flow* f = findFlow(g, site);
  if (!f || f->reported < 0) return nullptr;
  return &views_[g][static_cast<size_t>(f->reported)];
}

}  // namespace lbmail
