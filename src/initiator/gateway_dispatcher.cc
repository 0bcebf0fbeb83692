// Gateway choice: candidates, probes, per-destination load, parking.
#include "gateway_dispatcher.h"

#include <algorithm>

namespace lbmail {
namespace {

SelectorSettings selectorSettings(const SelectionConfig& selection) {
  SelectorSettings s = selection.selector;
  s.slow_ms = std::chrono::duration<double, std::milli>(selection.slow_sample).count();
  return s;
}

double millis(uint64_t us) { return static_cast<double>(us) / 1000.0; }

}  // namespace

GatewayDispatcher::GatewayDispatcher(size_t gateways, const SelectionConfig& selection, GatewayProber* prober)
    : gateways_(gateways),
      table_(gateways, std::chrono::duration_cast<std::chrono::milliseconds>(selection.half_life),
             std::chrono::milliseconds(selection.selector.stale_after_ms)),
      selector_(table_, selectorSettings(selection)),
      sites_(gateways),
      loads_(gateways),
      load_(gateways),
      parked_(gateways),
      prober_(prober),
      gateway_queue_(gateways) {}

GatewayDispatcher::Choice GatewayDispatcher::route(PendingRecipient& p, const GatewayAvailability& gateways,
                                                   uint64_t now) {
  p.domain_id = table_.domainId(p.domain);
  size_t m = static_cast<size_t>(p.material);
  bool any_has_media = false;
  bool other_candidate = false;
  for (size_t g = 0; g < gateways_; ++g) {
    bool has_media = gateways.hasMedia(g, m);
    any_has_media |= has_media;
    loads_[g] = {gateways.isUp(g) && has_media, gateways.credit(g), 0, 0, 0};
    // Avoid one only for another that could take it now: not one whose site is unavailable.
    if (static_cast<int>(g) != p.avoid_gateway && loads_[g].up && loads_[g].credit > 0 &&
        !siteUnavailable(p.domain_id, g, now)) {
      other_candidate = true;
    }
  }
  if (!any_has_media) return {Route::kMediaMissing, 0};
  if (p.avoid_gateway >= 0 && other_candidate) loads_[static_cast<size_t>(p.avoid_gateway)].up = false;
  leaveOutRefusers(p);
  if (selector_.waitsForProbes(p.domain_id, load_.domainInFlight(p.domain_id))) return {Route::kHold, 0};
  fillDestinationLoad(p.domain_id, now);
  applyShaping(p.domain_id, now);
  int wait_for = -1;
  int chosen = selector_.choose(p.domain_id, loads_, now, &wait_for);
  sendProbes(now);
  // Parked recipients come back when that gateway's credit does: one that holds credit now (c3's
  // rate limiter is what holds it back) would give them back at once, so they wait for the
  // next tick instead.
  if (chosen < 0 && wait_for >= 0 && loads_[static_cast<size_t>(wait_for)].credit == 0) {
    // Sooner through that gateway's next credit than through another one now.
    size_t g = static_cast<size_t>(wait_for);
    parked_[g].push_back(std::move(p));
    ++parked_count_;
    return {Route::kParked, g};
  }
  if (chosen < 0) return {Route::kHold, 0};
  return {Route::kSend, static_cast<size_t>(chosen)};
}

// A gateway that refused p by policy (RFC 3463 x.7.x) would refuse it again: it is left out while
// another gateway that could take p is up, even one out of credit now (p waits for its credit).
// With none up it is a candidate again, so that p cannot wait forever for a gateway that may
// not come back: a second refusal there is final.
void GatewayDispatcher::leaveOutRefusers(const PendingRecipient& p) {
  if (p.refused_by.empty()) return;
  auto refused = [&](size_t g) { return std::ranges::find(p.refused_by, g) != p.refused_by.end(); };
  bool other_up = false;
  for (size_t g = 0; g < gateways_; ++g) other_up |= loads_[g].up && !refused(g);
  if (!other_up) return;
  for (uint16_t g : p.refused_by) {
    if (g < gateways_) loads_[g].up = false;
  }
}

// A gateway whose shaping says it may not send to the domain's site now (suspended after a
// block, or today's warm-up cap used up) is left out while another that could take it is up, as
// leaveOutRefusers does. With none left it stays a candidate: its REJECT (kSiteUnavailable)
// sends the recipient back, at most max_requeues times, so nothing waits forever on a report.
// A throttled one stays, at the cost of the wait its rate implies.
void GatewayDispatcher::applyShaping(uint32_t domain, uint64_t now) {
  int site = sites_.siteOf(domain);
  if (site < 0) return;
  bool other_up = false;
  for (size_t g = 0; g < gateways_; ++g) {
    other_up |= loads_[g].up && !siteUnavailable(domain, g, now);
    loads_[g].extra_wait_ms = sites_.throttleWaitMs(g, static_cast<uint32_t>(site));
  }
  if (!other_up) return;
  for (size_t g = 0; g < gateways_; ++g) {
    if (siteUnavailable(domain, g, now)) loads_[g].up = false;
  }
}

bool GatewayDispatcher::siteUnavailable(uint32_t domain, size_t g, uint64_t now) const {
  int site = sites_.siteOf(domain);
  return site >= 0 && sites_.unavailable(g, static_cast<uint32_t>(site), now);
}

// The load that matters for ewma is the destination's on each gateway (the domain's site once
// known), not the gateway's as a whole: a gateway queues and connects per receiver.
void GatewayDispatcher::fillDestinationLoad(uint32_t domain, uint64_t now) {
  load_.fill(domain, now, loads_);
}

PendingRecipient GatewayDispatcher::unpark(size_t g) {
  PendingRecipient p = std::move(parked_[g].front());
  parked_[g].pop_front();
  --parked_count_;
  return p;
}

void GatewayDispatcher::sent(uint32_t domain, size_t g, uint64_t now) {
  load_.sent(g, domain, now);
  if (int site = sites_.siteOf(domain); site >= 0) sites_.sent(g, static_cast<uint32_t>(site));
  selector_.sent(g, domain, now);
}

// What the answer tells the learning policies: the time on the initiator's clock, the
// gateway's own time for the message (its total less its queue wait) and its queue then.
void GatewayDispatcher::answered(uint32_t domain, size_t g, const proto::ResultFrame& r, uint64_t sent_ms,
                                 uint64_t now) {
  release(domain, g, now);
  if (r.has_load) gateway_queue_[g] = r.queue;
  GatewayAnswer a;
  a.response_ms = static_cast<double>(now - sent_ms);
  a.service_ms = millis(r.timings.total_us - std::min(r.timings.queue_us, r.timings.total_us));
  a.queue = gateway_queue_[g];
  selector_.answered(g, domain, a, now);
}

// A REJECT: answered at once (or withdrawn unsent), so no service time.
void GatewayDispatcher::answered(uint32_t domain, size_t g, uint64_t sent_ms, uint64_t now) {
  release(domain, g, now);
  selector_.answered(g, domain, {static_cast<double>(now - sent_ms), 0, gateway_queue_[g]}, now);
}

void GatewayDispatcher::dropped(uint32_t domain, size_t g, uint64_t sent_ms, uint64_t now) {
  load_.dropped(g, domain);
  if (int site = sites_.siteOf(domain); site >= 0) sites_.done(g, static_cast<uint32_t>(site));
  selector_.answered(g, domain, {static_cast<double>(now - sent_ms), 0, gateway_queue_[g]}, now);
}

void GatewayDispatcher::release(uint32_t domain, size_t g, uint64_t now) {
  load_.answered(g, domain, now);
  if (int site = sites_.siteOf(domain); site >= 0) sites_.done(g, static_cast<uint32_t>(site));
}

void GatewayDispatcher::onGatewayFrame(size_t g, const proto::Frame& frame, uint64_t now) {
  if (const auto* s = std::get_if<proto::SitesFrame>(&frame)) {
    sites_.report(g, *s, now);
  } else if (const auto* load = std::get_if<proto::LoadFrame>(&frame)) {
    gateway_queue_[g] = load->queue_depth;
  } else if (const auto* reply = std::get_if<proto::ProbeReplyFrame>(&frame)) {
    selector_.probed(g, {reply->requests_in_flight, millis(reply->latency_us)}, now);
  }
}

// Asked after each decision: prequal keeps a pool of recent probes to choose from.
void GatewayDispatcher::sendProbes(uint64_t now) {
  std::span<const size_t> due = selector_.probesDue(now);
  if (!prober_) return;
  for (size_t g : due) {
    if (g < gateways_) prober_->probe(g, next_probe_token_++);
  }
}

void GatewayDispatcher::learnSite(uint32_t domain, std::string_view site) {
  int before = sites_.learn(domain, site);
  int now = sites_.siteOf(domain);
  if (before == now) return;
  // Its site's measurements stand for it where it has none (and it feeds them from now on).
  if (now >= 0) {
    table_.setSite(domain, static_cast<uint32_t>(now));
    load_.setSite(domain, static_cast<uint32_t>(now));
  }
  for (size_t g = 0; g < gateways_; ++g) sites_.moveInFlight(g, before, now, load_.domainInFlight(domain, g));
}

}  // namespace lbmail
