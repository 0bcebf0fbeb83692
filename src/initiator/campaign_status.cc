// The campaign's /status members and progress snapshot.
#include "campaign_status.h"

#include <algorithm>
#include <vector>

namespace lbmail {
namespace {

void writeCampaign(JsonWriter& w, const CampaignStatusSources& s) {
  ProgressReporter::Snapshot p = progressSnapshot(s.at_start, s.counts, s.waiting_retries, s.in_flight);
  const GatewaySelector& selector = s.dispatcher.selector();
  w.key("campaign").beginObject();
  w.field("name", s.name);
  w.field("state", s.state);
  w.field("total", p.total);
  w.field("sent", p.sent);
  w.field("delivered", p.delivered);
  w.field("deferred", p.deferred);
  w.field("bounced", p.bounced);
  w.field("failed", p.failed);
  w.field("suppressed", p.suppressed);
  w.field("in_flight", p.in_flight);
  w.field("deferrals", s.counts.changes(RecipientState::kDeferred));
  w.field("failovers", s.counts.failovers());
  w.field("rejects", s.counts.rejects());
  w.field("rate_per_second", p.rate);
  std::optional<double> eta = ProgressReporter::etaSeconds(p);
  w.key("eta_seconds");
  if (eta)
    w.value(*eta);
  else
    w.null();
  w.field("policy", selectionPolicyName(s.policy));
  w.field("decisions", selector.decisions());
  w.field("explorations", selector.explorations());
  w.field("switches", selector.switches());
  w.key("tls").beginObject();
  for (const auto& [name, t] : s.counts.deliveriesByTls()) {
    w.key(name).beginObject();
    w.field("delivered", t.delivered);
    w.field("verified", t.verified);
    w.endObject();
  }
  w.endObject();
  if (s.feedback) s.feedback->writeStatus(w);
  w.endObject();
}

// The sites gateway g said it shapes in its last SITES frame, as they stand now.
void writeShapedSites(JsonWriter& w, const CampaignStatusSources& s, size_t g) {
  const SiteTable& sites = s.dispatcher.sites();
  w.key("sites").beginArray();
  for (const SiteTable::Reported& r : sites.reported(g)) {
    uint64_t until = r.received_ms + r.suspended_ms;
    w.beginObject();
    w.field("site", sites.name(r.site));
    w.field("suspended", s.now_ms < until);
    w.field("suspended_ms", s.now_ms < until ? until - s.now_ms : 0);
    w.field("rate", static_cast<double>(r.rate_millis) / 1000.0);
    w.field("queued", static_cast<uint64_t>(r.queued));
    w.key("warmup_left");
    if (r.warmup_left == proto::SiteStatus::kNoWarmupCap) {
      w.null();
    } else {
      w.value(static_cast<uint64_t>(r.warmup_left));
    }
    w.field("in_flight", static_cast<uint64_t>(sites.inFlight(g, r.site)));
    w.field("sent_since_report", static_cast<uint64_t>(sites.sentSinceReport(g, r.site)));
    w.endObject();
  }
  w.endArray();
}

void writeGateways(JsonWriter& w, const CampaignStatusSources& s) {
  w.key("gateways").beginArray();
  for (size_t g = 0; g < s.links.size(); ++g) {
    const proto::GatewayLink* link = s.links.link(g);
    w.beginObject();
    w.field("name", s.links.endpoint(g).name);
    w.field("address", s.links.endpoint(g).address.toString());
    w.field("up", link && link->isUp());
    w.field("credit", link ? link->credit() : 0);
    w.field("in_flight", s.dispatcher.inFlight(g));
    w.field("rtt_ms", link ? static_cast<double>(link->rttMicros()) / 1000.0 : 0.0);
    w.field("link_bytes_sent", link ? link->bytesSent() : 0);
    w.field("link_bytes_received", link ? link->bytesReceived() : 0);
    w.field("sent", s.counts.sent(g));
    w.field("delivered", s.counts.results(g, RecipientState::kDelivered));
    w.field("deferred", s.counts.results(g, RecipientState::kDeferred));
    w.field("bounced", s.counts.results(g, RecipientState::kBounced));
    w.field("failed", s.counts.results(g, RecipientState::kFailed));
    for (ShapingEvent e : {ShapingEvent::kSiteUnavailable, ShapingEvent::kThrottleRequeue, ShapingEvent::kBlockReroute}) {
      w.field(shapingEventName(e), s.counts.shaped(g, e));
    }
    writeShapedSites(w, s, g);
    w.endObject();
  }
  w.endArray();
}

// Gateways × the busiest domains: what selection sees now.
void writeTable(JsonWriter& w, const CampaignStatusSources& s) {
  constexpr size_t kTopDomains = 20;
  const DeliveryTimeTable& table = s.dispatcher.table();
  std::vector<uint32_t> top(s.counts.domains());
  for (uint32_t i = 0; i < top.size(); ++i) top[i] = i;
  size_t n = std::min(kTopDomains, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(n), top.end(),
                    [&](uint32_t a, uint32_t b) { return s.counts.domainSent(a) > s.counts.domainSent(b); });
  // DeliveryTimeTable::Source in its order (kSiteSamples: the domain's site measured it).
  static const char* const kSources[] = {"none", "gateway_average", "rtt_prior", "site_samples", "samples"};
  w.key("table").beginObject();
  w.key("gateways").beginArray();
  for (size_t g = 0; g < s.links.size(); ++g) w.value(s.links.endpoint(g).name);
  w.endArray();
  w.key("domains").beginArray();
  for (size_t i = 0; i < n; ++i) {
    uint32_t d = top[i];
    w.beginObject();
    w.field("domain", table.domainName(d));
    w.field("sent", s.counts.domainSent(d));
    w.field("current", s.dispatcher.selector().currentGateway(d));
    w.key("expected_ms").beginArray();
    for (size_t g = 0; g < s.links.size(); ++g) w.value(table.expected(g, d).ms);
    w.endArray();
    w.key("source").beginArray();
    for (size_t g = 0; g < s.links.size(); ++g) w.value(kSources[static_cast<int>(table.expected(g, d).source)]);
    w.endArray();
    w.endObject();
  }
  w.endArray();
  w.endObject();
}

}  // namespace

ProgressReporter::Snapshot progressSnapshot(const LedgerCounts& at_start, const CampaignCounts& counts,
                                            uint64_t waiting_retries, uint64_t in_flight) {
  ProgressReporter::Snapshot s;
  s.total = at_start.recipients;
  s.sent = counts.sent();
  s.delivered = at_start.delivered + counts.changes(RecipientState::kDelivered);
  s.bounced = at_start.bounced + counts.changes(RecipientState::kBounced);
  s.failed = at_start.failed + counts.changes(RecipientState::kFailed);
  s.suppressed = at_start.suppressed + counts.changes(RecipientState::kSuppressed);
  s.deferred = waiting_retries;
  s.in_flight = in_flight;
  s.rate = counts.resultsPerSecond();
  return s;
}

void writeCampaignStatus(JsonWriter& w, const CampaignStatusSources& s) {
  writeCampaign(w, s);
  writeGateways(w, s);
  writeTable(w, s);
}

}  // namespace lbmail
