// The model world's events: arrivals, gateways, SMTP connections, receiver sites, changes.
#include "model_world.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "model_scenarios.h"

namespace lbmail {
namespace {

constexpr double kLatencyAlpha = 0.1;  // the gateway's latency EWMA, per answer

}  // namespace

ModelWorld::ModelWorld(const ModelSpec& spec)
    : spec_(spec), change_us_(static_cast<int64_t>(spec.change_at_s * 1e6)), groups_(modelDomainGroups(spec)) {
  std::vector<double> shares = modelDomainShares(spec);
  cdf_.resize(shares.size());
  std::partial_sum(shares.begin(), shares.end(), cdf_.begin());
}

void ModelWorld::reset() {
  arrival_rng_ = ModelRandom(spec_.seed);
  world_rng_ = ModelRandom(spec_.seed + 1);
  drift_rng_ = ModelRandom(spec_.seed + 2);
  messages_.clear();
  messages_.reserve(static_cast<size_t>(spec_.rate * spec_.seconds * 1.05) + 64);
  events_ = ModelEventQueue();
  events_.reserve(1 << 16);
  gateways_.assign(spec_.gateways, Gateway{});
  connections_.assign(static_cast<size_t>(spec_.gateways) * spec_.groups, Connections{});
  sites_.assign(spec_.groups, Site{});
  latency_ms_ = spec_.latency_ms;
  drift_.assign(latency_ms_.size(), 1.0);
  arrivals_done_ = false;
  for (Gateway& g : gateways_) g.tokens = spec_.throttle_per_second;
}

ModelResult ModelWorld::run(SelectionPolicy policy, const std::string& name, const ModelRoutes& routes) {
  reset();
  ModelStats stats(spec_, groups_);
  ModelInitiator initiator(spec_, policy, routes, messages_, events_, stats,
                           [this](size_t g) { return probe(g); });
  events_.push(static_cast<int64_t>(arrival_rng_.exponential(1e6 / spec_.rate)), ModelEventType::kArrival);
  events_.push(static_cast<int64_t>(spec_.tick_ms * 1000), ModelEventType::kTick);
  if (spec_.change != ModelChange::kNone && spec_.change != ModelChange::kDrift) {
    events_.push(change_us_, ModelEventType::kChange);
  }
  if (spec_.change == ModelChange::kDrift) events_.push(0, ModelEventType::kDrift);
  int64_t end_us = static_cast<int64_t>((spec_.seconds + spec_.drain_seconds) * 1e6);
  while (!events_.empty() && events_.nextAt() <= end_us) {
    if (arrivals_done_ && initiator.open() == 0) break;
    handle(events_.pop(), initiator);
  }
  ModelResult r = stats.finish(messages_.size(), initiator.open(), initiator.decisions());
  r.policy = name;
  return r;
}

void ModelWorld::handle(const ModelEvent& e, ModelInitiator& initiator) {
  int64_t now = e.at;
  bool current = e.msg < messages_.size() && messages_[e.msg].gen == e.gen;
  switch (e.type) {
    case ModelEventType::kArrival: {
      uint32_t msg = static_cast<uint32_t>(messages_.size());
      ModelMessage m;
      m.arrived_us = now;
      double u = arrival_rng_.uniform();
      m.domain = static_cast<uint32_t>(std::min<size_t>(
          std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin(), cdf_.size() - 1));
      m.group = groups_[m.domain];
      messages_.push_back(m);
      int64_t next = now + static_cast<int64_t>(arrival_rng_.exponential(1e6 / spec_.rate)) + 1;
      if (next < static_cast<int64_t>(spec_.seconds * 1e6)) {
        events_.push(next, ModelEventType::kArrival);
      } else {
        arrivals_done_ = true;
      }
      return initiator.arrived(now, msg);
    }
    case ModelEventType::kSendArrives:
      if (current) sendArrives(now, e.msg);
      return;
    case ModelEventType::kCapPass:
      if (current && gateways_[e.aux].alive) {
        --gateways_[e.aux].waiting;
        enqueue(now, e.msg);
      }
      return;
    case ModelEventType::kSiteArrives:
      if (current && gateways_[e.aux].alive) siteArrives(now, e.msg);
      return;
    case ModelEventType::kTransactionDone: return transactionDone(now, e.msg, e.aux != 0, current);
    case ModelEventType::kResultArrives:
      // A dead gateway's answers on the wire die with it; the failover sends them again.
      if (current && gateways_[static_cast<size_t>(messages_[e.msg].gateway)].alive) initiator.answered(now, e.msg);
      return;
    case ModelEventType::kRetry: return initiator.retryDue(now, e.msg);
    case ModelEventType::kProbeReply: return initiator.probeReply(now, e.msg);
    case ModelEventType::kTick:
      initiator.tick(now);
      events_.push(now + static_cast<int64_t>(spec_.tick_ms * 1000), ModelEventType::kTick);
      return;
    case ModelEventType::kChange: return change(now, initiator);
    case ModelEventType::kDrift: return drift(now);
    case ModelEventType::kFailover: return initiator.gatewayLost(now, spec_.change_gateway);
  }
}

// A SEND at its gateway: refused at once when warming has used the site's allowance; else past
// the gateway's rate cap into the queue for the site.
void ModelWorld::sendArrives(int64_t now, uint32_t msg) {
  ModelMessage& m = messages_[msg];
  size_t g = static_cast<size_t>(m.gateway);
  Gateway& gw = gateways_[g];
  if (!gw.alive) return;
  m.at_gateway_us = now;
  if (spec_.change == ModelChange::kWarming && g == spec_.change_gateway && m.group == spec_.change_group) {
    if (gw.warm_sent >= spec_.warm_cap) {
      m.outcome = ModelOutcome::kRejected;
      m.service_us = 0;
      m.queue = static_cast<uint32_t>(gw.waiting);
      events_.push(now + link(), ModelEventType::kResultArrives, msg, m.gen);
      return;
    }
    ++gw.warm_sent;
  }
  ++gw.held;
  double cap = spec_.gateway_cap.empty() ? 0 : spec_.gateway_cap[g];
  if (cap > 0) {
    int64_t at = std::max(now, gw.cap_next_us);
    gw.cap_next_us = at + static_cast<int64_t>(1e6 / cap);
    if (at > now) {
      ++gw.waiting;
      events_.push(at, ModelEventType::kCapPass, msg, m.gen, static_cast<uint32_t>(g));
      return;
    }
  }
  enqueue(now, msg);
}

void ModelWorld::enqueue(int64_t now, uint32_t msg) {
  const ModelMessage& m = messages_[msg];
  size_t c = spec_.cell(static_cast<uint32_t>(m.gateway), m.group);
  if (connections_[c].active < spec_.connections[c]) return startTransaction(now, msg);
  connections_[c].queue.push_back(msg);
  ++gateways_[static_cast<size_t>(m.gateway)].waiting;
}

// One SMTP transaction on one of the gateway's connections to the site. A refusal (blocked,
// throttled) comes after the latency, without service.
void ModelWorld::startTransaction(int64_t now, uint32_t msg) {
  ModelMessage& m = messages_[msg];
  uint32_t g = static_cast<uint32_t>(m.gateway);
  ++connections_[spec_.cell(g, m.group)].active;
  m.smtp_start_us = now;
  int64_t l = static_cast<int64_t>(latency(g, m.group) * 1000);
  bool at_site = m.group == spec_.change_group;
  if (changed(now) && at_site && spec_.change == ModelChange::kBlocked && g == spec_.change_gateway) {
    m.outcome = ModelOutcome::kBlocked;
  } else if (at_site && spec_.change == ModelChange::kThrottled && throttles(now, gateways_[g])) {
    m.outcome = ModelOutcome::kThrottled;
  }
  if (m.outcome != ModelOutcome::kDelivered || spec_.site_workers == 0) {
    int64_t service = m.outcome == ModelOutcome::kDelivered
                          ? static_cast<int64_t>(world_rng_.exponential(spec_.site_service_ms) * 1000)
                          : 0;
    events_.push(now + l + service, ModelEventType::kTransactionDone, msg, m.gen, 0);
    return;
  }
  events_.push(now + l, ModelEventType::kSiteArrives, msg, m.gen, g);
}

// The site's token bucket per gateway: throttle_per_second, a second's worth at most.
bool ModelWorld::throttles(int64_t now, Gateway& gw) {
  gw.tokens = std::min(spec_.throttle_per_second,
                       gw.tokens + static_cast<double>(now - gw.tokens_us) / 1e6 * spec_.throttle_per_second);
  gw.tokens_us = now;
  if (gw.tokens < 1) return true;
  gw.tokens -= 1;
  return false;
}

void ModelWorld::siteArrives(int64_t now, uint32_t msg) {
  Site& s = sites_[messages_[msg].group];
  if (s.busy < spec_.site_workers) return startService(now, msg);
  s.queue.emplace_back(msg, messages_[msg].gen);
}

void ModelWorld::startService(int64_t now, uint32_t msg) {
  ++sites_[messages_[msg].group].busy;
  int64_t service = static_cast<int64_t>(world_rng_.exponential(spec_.site_service_ms) * 1000);
  events_.push(now + service, ModelEventType::kTransactionDone, msg, messages_[msg].gen, 1);
}

// The worker is free even when the message died with its gateway.
void ModelWorld::transactionDone(int64_t now, uint32_t msg, bool worker, bool current) {
  ModelMessage& m = messages_[msg];
  if (worker) {
    Site& s = sites_[m.group];
    --s.busy;
    // The next that is still where it was sent (not lost with a dead gateway).
    while (!s.queue.empty()) {
      auto [next, gen] = s.queue.front();
      s.queue.pop_front();
      const ModelMessage& n = messages_[next];
      if (n.gen == gen && gateways_[static_cast<size_t>(n.gateway)].alive) {
        startService(now, next);
        break;
      }
    }
  }
  size_t g = static_cast<size_t>(m.gateway);
  Gateway& gw = gateways_[g];
  if (!current || !gw.alive) return;
  Connections& c = connections_[spec_.cell(static_cast<uint32_t>(g), m.group)];
  --c.active;
  --gw.held;
  if (!c.queue.empty()) {
    uint32_t next = c.queue.front();
    c.queue.pop_front();
    --gw.waiting;
    startTransaction(now, next);
  }
  if (m.outcome == ModelOutcome::kDelivered) {
    size_t cell = spec_.cell(static_cast<uint32_t>(g), m.group);
    double u = world_rng_.uniform();
    if (u < spec_.defer[cell]) {
      m.outcome = ModelOutcome::kDeferred;
    } else if (u < spec_.defer[cell] + spec_.bounce[cell]) {
      m.outcome = ModelOutcome::kBounced;
    }
  }
  m.service_us = static_cast<uint32_t>(now - m.smtp_start_us);
  m.queue = static_cast<uint32_t>(gw.waiting);
  double total_ms = static_cast<double>(now - m.at_gateway_us) / 1000.0;
  gw.latency_ms = gw.latency_ms <= 0 ? total_ms : gw.latency_ms + kLatencyAlpha * (total_ms - gw.latency_ms);
  events_.push(now + link(), ModelEventType::kResultArrives, msg, m.gen);
}

std::optional<ProbeAnswer> ModelWorld::probe(size_t g) const {
  const Gateway& gw = gateways_[g];
  if (!gw.alive) return std::nullopt;
  return ProbeAnswer{gw.held, gw.latency_ms};
}

// The change at change_at_s: shift trades two latencies; failure kills a gateway (the
// initiator notices after failover_ms); blocked starts refusing in startTransaction.
void ModelWorld::change(int64_t now, ModelInitiator& initiator) {
  uint32_t k = spec_.change_group;
  if (spec_.change == ModelChange::kShift) {
    std::swap(latency_ms_[spec_.cell(spec_.change_gateway, k)], latency_ms_[spec_.cell(spec_.shift_to, k)]);
  } else if (spec_.change == ModelChange::kFailure) {
    Gateway& gw = gateways_[spec_.change_gateway];
    gw.alive = false;
    gw.held = gw.waiting = 0;
    for (uint32_t group = 0; group < spec_.groups; ++group) connections_[spec_.cell(spec_.change_gateway, group)] = {};
    events_.push(now + static_cast<int64_t>(spec_.failover_ms * 1000), ModelEventType::kFailover);
  }
  initiator.rerouteOracle();
}

// A log random walk per (gateway, group), within [drift_min, drift_max] of the base latency.
void ModelWorld::drift(int64_t now) {
  for (size_t c = 0; c < drift_.size(); ++c) {
    drift_[c] = std::clamp(drift_[c] * std::exp(spec_.drift_sigma * drift_rng_.normal()), spec_.drift_min,
                           spec_.drift_max);
    latency_ms_[c] = spec_.latency_ms[c] * drift_[c];
  }
  events_.push(now + static_cast<int64_t>(spec_.drift_step_ms * 1000), ModelEventType::kDrift);
}

}  // namespace lbmail
