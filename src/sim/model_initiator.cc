// The model initiator: decisions through the real selector, credit, wait lines and answers.
#include "model_initiator.h"

#include <string>

namespace lbmail {
namespace {

constexpr size_t kProbeRing = 1 << 16;  // replies in flight at once, far more than a link RTT holds
// As the campaign's RecipientFeed: the database is read a page at a time while fewer than the
// low-water mark wait in memory to be sent; the rest of the arrivals wait in the database.
constexpr size_t kPage = 1024;
constexpr size_t kLowWater = 2 * kPage;

uint64_t ms(int64_t us) { return static_cast<uint64_t>(us / 1000); }

}  // namespace

ModelInitiator::ModelInitiator(const ModelSpec& spec, SelectionPolicy policy, const ModelRoutes& routes,
                               std::vector<ModelMessage>& messages, ModelEventQueue& events, ModelStats& stats,
                               Prober prober)
    : spec_(spec),
      policy_(policy),
      routes_(routes),
      messages_(messages),
      events_(events),
      stats_(stats),
      prober_(std::move(prober)),
      table_(spec.gateways, std::chrono::milliseconds(static_cast<int64_t>(spec.half_life_s * 1000)),
             std::chrono::milliseconds(spec.stale_after_ms)),
      loads_(spec.gateways),
      up_(spec.gateways, true),
      load_(spec.gateways),
      left_out_(static_cast<size_t>(spec.gateways) * spec.groups, false),
      parked_(spec.gateways),
      probes_(kProbeRing) {
  // Domain ids are the domains' indexes: the table hands them out in order.
  for (uint32_t d = 0; d < spec.domains; ++d) table_.domainId("d" + std::to_string(d));
  selector_ = makeSelector(routes.before);
}

std::unique_ptr<GatewaySelector> ModelInitiator::makeSelector(const std::vector<int>& routes) const {
  SelectorSettings s;
  s.policy = policy_;
  s.exploration = spec_.exploration;
  s.stale_after_ms = spec_.stale_after_ms;
  s.hysteresis = spec_.hysteresis;
  s.slow_ms = spec_.slow_ms;
  s.seed = spec_.seed;
  if (policy_ == SelectionPolicy::kFixed) {
    for (uint32_t d = 0; d < routes.size(); ++d) {
      if (routes[d] >= 0) s.routes.emplace_back("d" + std::to_string(d), routes[d]);
    }
  }
  return std::make_unique<GatewaySelector>(table_, std::move(s));
}

void ModelInitiator::rerouteOracle() {
  if (policy_ != SelectionPolicy::kFixed || routes_.after.empty()) return;
  earlier_decisions_ += selector_->decisions();
  selector_ = makeSelector(routes_.after);
}

void ModelInitiator::arrived(int64_t now, uint32_t msg) {
  ++open_;
  if (!backlog_.empty() || queued() >= kLowWater) return backlog_.push_back(msg);
  dispatch(now, msg);
}

size_t ModelInitiator::queued() const {
  size_t n = held_.size();
  for (const auto& line : parked_) n += line.size();
  return n;
}

// The next page from the database, in arrival order, when few wait in memory.
void ModelInitiator::fetch(int64_t now) {
  if (backlog_.empty() || queued() >= kLowWater) return;
  for (size_t n = 0; n < kPage && !backlog_.empty(); ++n) {
    uint32_t msg = backlog_.front();
    backlog_.pop_front();
    dispatch(now, msg);
  }
}

void ModelInitiator::dispatch(int64_t now, uint32_t msg) {
  if (place(now, msg) == Placed::kHeld) held_.push_back(msg);
}

// What the campaign's dispatcher hands the selector: per gateway up (less those to avoid for
// this recipient while another could take it), its credit, and the destination's load.
void ModelInitiator::fillLoads(int64_t now, const ModelMessage& m) {
  bool other = false, unrefused = false, unexcluded = false;
  load_.fill(m.domain, ms(now), loads_);
  for (size_t g = 0; g < spec_.gateways; ++g) {
    GatewayLoad& l = loads_[g];
    l.up = up_[g];
    l.credit = spec_.credit > load_.inFlight(g) ? spec_.credit - load_.inFlight(g) : 0;
    l.extra_wait_ms = 0;
    bool excluded = left_out_[spec_.cell(static_cast<uint32_t>(g), m.group)];
    if (static_cast<int>(g) != m.avoid && l.up && l.credit > 0 && !excluded) other = true;
    unrefused |= l.up && !(m.refused >> g & 1);
    unexcluded |= l.up && !excluded;
  }
  if (m.avoid >= 0 && other) loads_[static_cast<size_t>(m.avoid)].up = false;
  for (size_t g = 0; g < spec_.gateways; ++g) {
    if (unrefused && (m.refused >> g & 1)) loads_[g].up = false;
    if (unexcluded && left_out_[spec_.cell(static_cast<uint32_t>(g), m.group)]) loads_[g].up = false;
  }
}

ModelInitiator::Placed ModelInitiator::place(int64_t now, uint32_t msg) {
  ModelMessage& m = messages_[msg];
  fillLoads(now, m);
  // As the campaign: a domain nothing is known about gets a few probes per gateway, not a wave.
  if (selector_->waitsForProbes(m.domain, load_.domainInFlight(m.domain))) return Placed::kHeld;
  int wait_for = -1;
  int g = selector_->choose(m.domain, loads_, ms(now), &wait_for);
  if (g >= 0) {
    send(now, msg, static_cast<size_t>(g));
    return Placed::kSent;
  }
  if (wait_for >= 0) {
    parked_[static_cast<size_t>(wait_for)].push_back(msg);
    return Placed::kParked;
  }
  return Placed::kHeld;
}

void ModelInitiator::send(int64_t now, uint32_t msg, size_t g) {
  ModelMessage& m = messages_[msg];
  m.state = ModelMessageState::kInFlight;
  m.gateway = static_cast<int8_t>(g);
  m.sent_us = now;
  m.outcome = ModelOutcome::kDelivered;
  ++m.gen;
  load_.sent(g, m.domain, ms(now));
  selector_->sent(g, m.domain, ms(now));
  stats_.sent(now, m.domain, static_cast<uint32_t>(g));
  events_.push(now + static_cast<int64_t>(spec_.link_ms * 1000), ModelEventType::kSendArrives, msg, m.gen,
               static_cast<uint32_t>(g));
  sendProbes(now);
}

void ModelInitiator::sendProbes(int64_t now) {
  for (size_t g : selector_->probesDue(ms(now))) {
    std::optional<ProbeAnswer> a = prober_(g);
    if (!a) continue;
    uint32_t slot = probe_next_++ % kProbeRing;
    probes_[slot] = {g, *a};
    events_.push(now + static_cast<int64_t>(2 * spec_.link_ms * 1000), ModelEventType::kProbeReply, slot);
  }
}

void ModelInitiator::probeReply(int64_t now, uint32_t slot) {
  const auto& [g, answer] = probes_[slot];
  if (up_[g]) selector_->probed(g, answer, ms(now));
}

void ModelInitiator::answered(int64_t now, uint32_t msg) {
  ModelMessage& m = messages_[msg];
  size_t g = static_cast<size_t>(m.gateway);
  m.state = ModelMessageState::kWaiting;
  load_.answered(g, m.domain, ms(now));
  double response_ms = static_cast<double>(now - m.sent_us) / 1000.0;
  // The gateways name the domain's site in their answers: from the first, the table and the
  // load know it.
  if (table_.siteOf(m.domain) < 0) {
    table_.setSite(m.domain, m.group);
    load_.setSite(m.domain, m.group);
  }
  GatewayAnswer answer{response_ms, m.service_us / 1000.0, m.queue};
  selector_->answered(g, m.domain, answer, ms(now));
  bool slow = m.outcome != ModelOutcome::kDelivered && m.outcome != ModelOutcome::kBounced;
  table_.recordDelivery(g, m.domain, slow ? std::max(response_ms, spec_.slow_ms) : response_ms, ms(now));
  switch (m.outcome) {
    case ModelOutcome::kDelivered:
      stats_.delivered(now, static_cast<double>(now - m.arrived_us) / 1000.0);
      finish(msg);
      break;
    case ModelOutcome::kBounced:
      stats_.bounced(false);
      finish(msg);
      break;
    case ModelOutcome::kDeferred:
      if (++m.attempts >= spec_.max_attempts) {
        stats_.failed();
        finish(msg);
        break;
      }
      m.avoid = static_cast<int8_t>(g);
      events_.push(now + static_cast<int64_t>(spec_.retry_ms * 1000), ModelEventType::kRetry, msg);
      break;
    default: refused(now, msg);
  }
  creditFreed(now, g);
  fetch(now);
}

// A refusal: by policy (blocked) the gateway is left out for the recipient, a REJECT (warming)
// leaves it out for the whole site, a throttle avoids it next time; then sent again at once,
// or after a retry's wait when it keeps being refused.
void ModelInitiator::refused(int64_t now, uint32_t msg) {
  ModelMessage& m = messages_[msg];
  size_t g = static_cast<size_t>(m.gateway);
  stats_.refused();
  if (m.outcome == ModelOutcome::kBlocked) {
    m.refused |= static_cast<uint16_t>(1u << g);
    bool other = false;
    for (size_t o = 0; o < spec_.gateways; ++o) other |= up_[o] && !(m.refused >> o & 1);
    if (!other) {
      stats_.bounced(true);
      return finish(msg);
    }
  } else if (m.outcome == ModelOutcome::kRejected) {
    left_out_[spec_.cell(static_cast<uint32_t>(g), m.group)] = true;
  }
  m.avoid = static_cast<int8_t>(g);
  if (++m.requeues > spec_.max_requeues) {
    m.requeues = 0;
    events_.push(now + static_cast<int64_t>(spec_.retry_ms * 1000), ModelEventType::kRetry, msg);
    return;
  }
  dispatch(now, msg);
}

void ModelInitiator::retryDue(int64_t now, uint32_t msg) { dispatch(now, msg); }

void ModelInitiator::finish(uint32_t msg) {
  messages_[msg].state = ModelMessageState::kDone;
  --open_;
}

// As the campaign's pump: a freed credit goes to what waits for this gateway; what no gateway
// could take waits for the next tick.
// One parked for this gateway again stops it: the policy still waits for the gateway (c3 for
// its rate token), and the others behind it would wait as well.
void ModelInitiator::creditFreed(int64_t now, size_t g) {
  std::deque<uint32_t>& line = parked_[g];
  while (!line.empty() && load_.inFlight(g) < spec_.credit) {
    uint32_t msg = line.front();
    line.pop_front();
    size_t before = line.size();
    dispatch(now, msg);
    if (line.size() > before) break;
  }
}

void ModelInitiator::redecide(int64_t now, std::deque<uint32_t>& line) {
  for (size_t n = line.size(); n > 0 && !line.empty(); --n) {
    uint32_t msg = line.front();
    line.pop_front();
    dispatch(now, msg);
  }
}

// Held recipients get another chance, and those parked for a gateway choose again.
void ModelInitiator::tick(int64_t now) {
  redecide(now, held_);
  for (auto& line : parked_) redecide(now, line);
  fetch(now);
}

void ModelInitiator::gatewayLost(int64_t now, size_t gateway) {
  up_[gateway] = false;
  for (uint32_t msg = 0; msg < messages_.size(); ++msg) {
    ModelMessage& m = messages_[msg];
    if (m.state != ModelMessageState::kInFlight || static_cast<size_t>(m.gateway) != gateway) continue;
    m.state = ModelMessageState::kWaiting;
    load_.dropped(gateway, m.domain);
    selector_->answered(gateway, m.domain, {static_cast<double>(now - m.sent_us) / 1000.0, 0, 0}, ms(now));
    ++m.attempts;
    stats_.resent(now);
    dispatch(now, msg);
  }
  redecide(now, parked_[gateway]);
}

}  // namespace lbmail
