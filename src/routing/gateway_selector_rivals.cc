// The rivals' side of the gateway selector: C3, Prequal, and peak-EWMA and least-request with
// two random choices. Each is per gateway, whatever the domain, as in its paper or code; each
// decision reads fixed state and per-gateway scratch sized once, and allocates nothing.
#include "lbmail/routing/gateway_selector.h"

#include "c3_ranker.h"
#include "cubic_rate_limiter.h"
#include "peak_ewma.h"
#include "prequal_pool.h"
#include "two_choices.h"

namespace lbmail {
namespace {

bool candidate(const GatewayLoad& g) { return g.up && g.credit > 0; }

}  // namespace

struct GatewaySelector::Rivals {
  explicit Rivals(uint32_t initiators) : c3(initiators) {}

  // Per-gateway state grows to the largest gateway count seen (allocation only then).
  void fit(size_t gateways) {
    if (limiters.size() >= gateways) return;
    limiters.resize(gateways);
    peak.resize(gateways);
    candidates.reserve(gateways);
    up.reserve(gateways);
    due.reserve(gateways);
  }

  C3Ranker c3;
  std::vector<CubicRateLimiter> limiters;
  std::vector<PeakEwma> peak;
  PrequalPool pool;
  std::vector<size_t> candidates;  // scratch: this decision's candidates
  std::vector<size_t> up;          // prequal: the gateways up at the last decision
  std::vector<size_t> due;         // prequal: the gateways to probe now
  uint64_t probe_rounds = 0;       // prequal: decisions since the last probesDue()
};

void GatewaySelector::RivalsDeleter::operator()(Rivals* r) const { delete r; }

GatewaySelector::Rivals& GatewaySelector::rivals(size_t gateways) {
  if (!rivals_) rivals_.reset(new Rivals(settings_.initiators));
  rivals_->fit(gateways);
  return *rivals_;
}

// A candidate drawn uniformly (not the first after a random start, which favours a gateway
// that follows ones left out).
int GatewaySelector::randomCandidate(std::span<const GatewayLoad> gateways) {
  std::vector<size_t>& c = rivals(gateways.size()).candidates;
  c.clear();
  for (size_t g = 0; g < gateways.size(); ++g) {
    if (candidate(gateways[g])) c.push_back(g);
  }
  if (c.empty()) return -1;
  return static_cast<int>(c[nextRandom() % c.size()]);
}

// C3 (absim's backpressure scheduler): the best-ranked candidate that holds a rate token
// takes it. None holds one: -1, and with wait_for the candidate whose token comes first, if
// an answer from it is still to come (its credit frees then); otherwise the caller's tick.
int GatewaySelector::chooseC3(std::span<const GatewayLoad> gateways, uint64_t now_ms, int* wait_for) {
  Rivals& r = rivals(gateways.size());
  int best = -1;
  double best_score = 0;
  int soonest = -1;
  double soonest_ms = 0;
  for (size_t g = 0; g < gateways.size(); ++g) {
    const GatewayLoad& l = gateways[g];
    if (!candidate(l)) continue;
    double wait = r.limiters[g].msUntilToken(now_ms);
    if (wait > 0) {
      if (l.in_flight > 0 && (soonest < 0 || wait < soonest_ms)) {
        soonest = static_cast<int>(g);
        soonest_ms = wait;
      }
      continue;
    }
    double s = r.c3.score(g, l.in_flight);
    // Equal scores (gateways not heard from yet score 0): the one with less in flight.
    bool better = best < 0 || s < best_score ||
                  (s == best_score && l.in_flight < gateways[static_cast<size_t>(best)].in_flight);
    if (better) {
      best = static_cast<int>(g);
      best_score = s;
    }
  }
  if (best >= 0) {
    r.limiters[static_cast<size_t>(best)].tryAcquire(now_ms);
    return best;
  }
  if (wait_for && soonest >= 0) *wait_for = soonest;
  return -1;
}

// Prequal: the pool's hot-cold choice; with no usable probe, a random candidate. Either way
// the decision owes kProbesPerDecision probes to random gateways that are up.
int GatewaySelector::choosePrequal(std::span<const GatewayLoad> gateways, uint64_t now_ms) {
  Rivals& r = rivals(gateways.size());
  r.up.clear();
  for (size_t g = 0; g < gateways.size(); ++g) {
    if (gateways[g].up) r.up.push_back(g);
  }
  ++r.probe_rounds;
  int g = r.pool.choose(gateways, now_ms);
  return g >= 0 ? g : randomCandidate(gateways);
}

// The cheaper of two distinct random candidates: peak-EWMA cost (Finagle P2CPeakEwma) or in
// flight (Envoy LEAST_REQUEST, choice_count 2). Ties go to the second pick, as in Finagle's
// P2CPick; Envoy keeps the first, which is the same draw.
int GatewaySelector::chooseTwoChoices(std::span<const GatewayLoad> gateways, uint64_t now_ms) {
  Rivals& r = rivals(gateways.size());
  std::vector<size_t>& c = r.candidates;
  c.clear();
  for (size_t g = 0; g < gateways.size(); ++g) {
    if (candidate(gateways[g])) c.push_back(g);
  }
  if (c.empty()) return -1;
  if (c.size() == 1) return static_cast<int>(c[0]);
  uint64_t r1 = nextRandom();
  TwoChoices pick = twoDistinct(c.size(), r1, nextRandom());
  size_t a = c[pick.first];
  size_t b = c[pick.second];
  double load_a = 0;
  double load_b = 0;
  if (settings_.policy == SelectionPolicy::kPeakEwmaP2c) {
    load_a = r.peak[a].cost(gateways[a].in_flight, now_ms);
    load_b = r.peak[b].cost(gateways[b].in_flight, now_ms);
  } else {
    load_a = static_cast<double>(gateways[a].in_flight);
    load_b = static_cast<double>(gateways[b].in_flight);
  }
  return static_cast<int>(load_a < load_b ? a : b);
}

// Only the rivals learn from these; ewma learns from the delivery-time table.
void GatewaySelector::sent(size_t, uint32_t, uint64_t) {}

void GatewaySelector::answered(size_t gateway, uint32_t, const GatewayAnswer& answer, uint64_t now_ms) {
  switch (settings_.policy) {
    case SelectionPolicy::kC3: {
      Rivals& r = rivals(gateway + 1);
      r.c3.answered(gateway, answer.response_ms, answer.service_ms, answer.queue);
      r.limiters[gateway].answered(now_ms);
      return;
    }
    case SelectionPolicy::kPeakEwmaP2c: rivals(gateway + 1).peak[gateway].observe(answer.response_ms, now_ms); return;
    default: return;
  }
}

// Distinct random gateways among those up at the last decision, kProbesPerDecision for each
// decision since the last call (at most every gateway up).
std::span<const size_t> GatewaySelector::probesDue(uint64_t) {
  if (settings_.policy != SelectionPolicy::kPrequal || !rivals_ || rivals_->probe_rounds == 0) return {};
  Rivals& r = *rivals_;
  size_t want = r.probe_rounds * kProbesPerDecision;
  r.probe_rounds = 0;
  if (want > r.up.size()) want = r.up.size();
  // A partial Fisher-Yates shuffle of the gateways up: the first `want` are the sample.
  r.due.assign(r.up.begin(), r.up.end());
  for (size_t i = 0; i < want; ++i) {
    size_t j = i + nextRandom() % (r.due.size() - i);
    std::swap(r.due[i], r.due[j]);
  }
  return std::span<const size_t>(r.due.data(), want);
}

void GatewaySelector::probed(size_t gateway, const ProbeAnswer& answer, uint64_t now_ms) {
  if (settings_.policy != SelectionPolicy::kPrequal) return;
  rivals(gateway + 1).pool.add(gateway, answer.requests_in_flight, answer.latency_ms, now_ms);
}

}  // namespace lbmail
