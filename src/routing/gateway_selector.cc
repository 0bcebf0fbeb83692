// Gateway selection policies.
#include "lbmail/routing/gateway_selector.h"

#include <algorithm>
#include <cmath>

namespace lbmail {
namespace {

bool candidate(const GatewayLoad& g) { return g.up && g.credit > 0; }

// The wait a gateway's backlog implies for the next message, ms: it carries `concurrency`
// messages to the destination at once, each taking about expected_ms; every message beyond
// them waits for one of those to finish.
double backlogWaitMs(const GatewayLoad& l, double expected_ms, uint32_t concurrency) {
  if (l.in_flight <= concurrency) return 0;
  return static_cast<double>(l.in_flight - concurrency) * expected_ms / concurrency;
}

}  // namespace

std::optional<SelectionPolicy> parseSelectionPolicy(std::string_view name) {
  if (name == "ewma") return SelectionPolicy::kEwma;
  if (name == "round_robin") return SelectionPolicy::kRoundRobin;
  if (name == "random") return SelectionPolicy::kRandom;
  if (name == "least_loaded") return SelectionPolicy::kLeastLoaded;
  if (name == "fixed") return SelectionPolicy::kFixed;
  if (name == "c3") return SelectionPolicy::kC3;
  if (name == "prequal") return SelectionPolicy::kPrequal;
  if (name == "peak_ewma_p2c") return SelectionPolicy::kPeakEwmaP2c;
  if (name == "least_request_p2c") return SelectionPolicy::kLeastRequestP2c;
  return std::nullopt;
}

std::string_view selectionPolicyName(SelectionPolicy p) {
  switch (p) {
    case SelectionPolicy::kEwma: return "ewma";
    case SelectionPolicy::kRoundRobin: return "round_robin";
    case SelectionPolicy::kRandom: return "random";
    case SelectionPolicy::kLeastLoaded: return "least_loaded";
    case SelectionPolicy::kFixed: return "fixed";
    case SelectionPolicy::kC3: return "c3";
    case SelectionPolicy::kPrequal: return "prequal";
    case SelectionPolicy::kPeakEwmaP2c: return "peak_ewma_p2c";
    case SelectionPolicy::kLeastRequestP2c: return "least_request_p2c";
  }
  return "?";
}

GatewaySelector::GatewaySelector(const DeliveryTimeTable& table, SelectorSettings settings)
    : table_(table), settings_(settings), rng_(settings.seed * 0x9E3779B97F4A7C15ull + 1) {}

uint64_t GatewaySelector::nextRandom() {
  // xorshift64*: fast and good enough to spread load.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return rng_ * 0x2545F4914F6CDD1Dull;
}

int GatewaySelector::choose(uint32_t domain, std::span<const GatewayLoad> gateways, uint64_t now_ms, int* wait_for) {
  if (wait_for) *wait_for = -1;
  ++decisions_;
  size_t n = gateways.size();
  switch (settings_.policy) {
    case SelectionPolicy::kEwma: return chooseEwma(domain, gateways, now_ms, wait_for);
    case SelectionPolicy::kRoundRobin:
      for (size_t i = 0; i < n; ++i) {
        size_t g = (round_robin_ + i) % n;
        if (candidate(gateways[g])) {
          round_robin_ = g + 1;
          return static_cast<int>(g);
        }
      }
      return -1;
    case SelectionPolicy::kRandom: {
      size_t start = n ? nextRandom() % n : 0;
      for (size_t i = 0; i < n; ++i) {
        size_t g = (start + i) % n;
        if (candidate(gateways[g])) return static_cast<int>(g);
      }
      return -1;
    }
    case SelectionPolicy::kLeastLoaded: return leastLoaded(gateways);
    case SelectionPolicy::kFixed: return chooseFixed(domain, gateways, wait_for);
    case SelectionPolicy::kC3: return chooseC3(gateways, now_ms, wait_for);
    case SelectionPolicy::kPrequal: return choosePrequal(gateways, now_ms);
    case SelectionPolicy::kPeakEwmaP2c:
    case SelectionPolicy::kLeastRequestP2c: return chooseTwoChoices(gateways, now_ms);
  }
  return -1;
}

int GatewaySelector::leastLoaded(std::span<const GatewayLoad> gateways) const {
  int best = -1;
  for (size_t g = 0; g < gateways.size(); ++g) {
    if (candidate(gateways[g]) && (best < 0 || gateways[g].in_flight < gateways[best].in_flight)) {
      best = static_cast<int>(g);
    }
  }
  return best;
}

// The routed gateway, waiting for its credit rather than going elsewhere: the route is the
// point; a gateway left out for the recipient gives way to the least loaded. Routes are matched
// once per domain.
int GatewaySelector::chooseFixed(uint32_t domain, std::span<const GatewayLoad> gateways, int* wait_for) {
  if (domain >= table_.domains()) return -1;
  if (routed_.size() <= domain) routed_.resize(table_.domains(), -2);
  if (routed_[domain] == -2) {
    std::string_view name = table_.domainName(domain);
    routed_[domain] = -1;
    for (const auto& [pattern, g] : settings_.routes) {
      bool below = pattern.starts_with('.') && name.ends_with(pattern);
      if (name == pattern || below) {
        routed_[domain] = g;
        break;
      }
    }
  }
  int g = routed_[domain];
  if (g < 0 || static_cast<size_t>(g) >= gateways.size()) return leastLoaded(gateways);
  // The route's gateway is left out for this recipient (down, avoided after a deferral, its
  // site suspended or out of warm-up): the others take it rather than nobody, ever.
  if (!gateways[static_cast<size_t>(g)].up) return leastLoaded(gateways);
  if (candidate(gateways[static_cast<size_t>(g)])) return g;
  if (wait_for && gateways[static_cast<size_t>(g)].up) *wait_for = g;
  return -1;
}

bool GatewaySelector::waitsForProbes(uint32_t domain, uint64_t domain_in_flight) const {
  if (settings_.policy != SelectionPolicy::kEwma || domain_in_flight < kProbes * table_.gateways()) return false;
  for (size_t g = 0; g < table_.gateways(); ++g) {
    DeliveryTimeTable::Source source = table_.expected(g, domain).source;
    if (source != DeliveryTimeTable::Source::kNone && source != DeliveryTimeTable::Source::kGatewayAverage) {
      return false;
    }
  }
  return true;
}

// One pass over the domain's row: what each decision needs to know, with no second look at the
// table (ewma's whole per-decision cost is this loop; perf/selection_bench).
GatewaySelector::Scan GatewaySelector::scan(uint32_t domain, std::span<const GatewayLoad> gateways) const {
  Scan s;
  int current = current_[domain];
  uint32_t concurrency = std::max<uint32_t>(1, settings_.destination_concurrency);
  DeliveryTimeTable::Row row = table_.row(domain);
  for (size_t g = 0; g < gateways.size(); ++g) {
    const GatewayLoad& l = gateways[g];
    if (!l.up) continue;
    double m = row.at(g).mean;
    if (std::isnan(m)) {
      // Not measured here yet: its probes are out or about to be.
      s.measuring = true;
      if (s.probe < 0 && l.credit > 0 && l.in_flight < kProbes) s.probe = static_cast<int>(g);
      continue;
    }
    s.measured = true;
    s.fast |= m < settings_.slow_ms;
    // Expected delivery time plus the wait a throttled site adds there plus the wait the
    // backlog implies; the last (a division) only where the rest could still win.
    double c = m + l.extra_wait_ms;
    bool is_current = static_cast<int>(g) == current;
    bool could_win = s.best_up < 0 || c < s.best_up_cost || (l.credit > 0 && (s.best < 0 || c < s.best_cost));
    if (!could_win && !is_current) continue;
    c += backlogWaitMs(l, m, concurrency);
    // Nothing comes back from a silent gateway sooner than its silence says.
    c = std::max(c, l.silent_ms);
    if (is_current) s.current_cost = c;
    if (s.best_up < 0 || c < s.best_up_cost) {
      s.best_up = static_cast<int>(g);
      s.best_up_cost = c;
      s.best_up_ms = m;
    }
    if (l.credit > 0 && (s.best < 0 || c < s.best_cost)) {
      s.best = static_cast<int>(g);
      s.best_cost = c;
    }
  }
  return s;
}

int GatewaySelector::chooseEwma(uint32_t domain, std::span<const GatewayLoad> gateways, uint64_t now_ms,
                                int* wait_for) {
  // The table knows only its own domains and gateways.
  if (domain >= table_.domains() || gateways.size() > table_.gateways()) return -1;
  if (current_.size() <= domain) current_.resize(table_.domains(), -1);
  // A share of decisions, spread evenly (not in bursts), may go to refresh an entry.
  exploration_credit_ += settings_.exploration;
  if (exploration_credit_ >= 1) {
    int g = explore(domain, gateways, now_ms);
    if (g >= 0) {
      exploration_credit_ -= 1;
      ++explorations_;
      return g;
    }
    exploration_credit_ = 1;  // nothing to refresh now: keep the turn for later, without piling up
  }
  Scan s = scan(domain, gateways);
  // Nothing measured for the domain yet: no average stands in (whichever gateway answered
  // first elsewhere would get every new domain). Spread the first messages evenly instead, so
  // that each gateway measures the domain within its first answers.
  if (!s.measured) return leastLoaded(gateways);
  // Once some gateway has measured the domain, only measured gateways compete: a stand-in (the
  // gateway's average over other domains) would make an unmeasured gateway look as fast as its
  // best domains, and a wave would go there before its first answer came back. A gateway that
  // has not measured the domain yet gets a few messages now (at most kProbes in flight), so
  // that it is measured within one answer instead of waiting for exploration.
  if (s.probe >= 0) {
    ++explorations_;
    return s.probe;
  }
  // Every measurement is slow while some gateway is still measuring: wait for its probes. A
  // slow sample is a refusal, a deferral or a timeout: it says where not to send, not where
  // to, and the probes' answers come within one delivery time. Sending on to the slow one
  // meanwhile sent most of a domain to a gateway whose address the receiver had blocklisted.
  if (!s.fast && s.measuring) return -1;
  int& current = current_[domain];
  // Waiting for credit costs about one completion's time at that gateway: one of its messages
  // to the destination finishing (what it already has in flight there is in the cost).
  if (wait_for && s.best_up >= 0 && s.best_up != s.best) {
    double wait = s.best_up_ms / std::max<uint32_t>(1, settings_.destination_concurrency);
    if (s.best < 0 || s.best_cost > (s.best_up_cost + wait) * (1 + settings_.hysteresis)) {
      *wait_for = s.best_up;
      if (current != s.best_up && current >= 0) ++switches_;
      current = s.best_up;
      return -1;
    }
  }
  if (s.best < 0) return -1;
  // Hysteresis: move only when the best is clearly cheaper than where the domain is.
  if (current >= 0 && current != s.best && gateways[static_cast<size_t>(current)].credit > 0 &&
      !std::isnan(s.current_cost) && s.current_cost <= s.best_cost * (1 + settings_.hysteresis)) {
    return current;
  }
  if (current != s.best) {
    if (current >= 0) ++switches_;
    current = s.best;
  }
  return s.best;
}

// The candidate that has measured the domain (or its site) least recently, if that is longer
// ago than stale_after: one exploration refreshes a site for all its domains. An exploration
// on its way counts as a measurement, so the site's other domains do not send more while its
// answer is out.
int GatewaySelector::explore(uint32_t domain, std::span<const GatewayLoad> gateways, uint64_t now_ms) {
  // Nothing of this domain's is due before explore_due_ (its candidates' measurements only get
  // newer): a turn kept for later costs one look, not a pass over its row.
  if (explore_due_.size() <= domain) explore_due_.resize(table_.domains(), 0);
  if (now_ms < explore_due_[domain]) return -1;
  int pick = -1;
  uint64_t oldest = UINT64_MAX;
  uint64_t oldest_up = UINT64_MAX;  // over every gateway that is up, credit or not: the due time
  DeliveryTimeTable::Row row = table_.row(domain);
  uint64_t* explored = exploredRow(domain);
  for (size_t g = 0; g < gateways.size(); ++g) {
    if (!gateways[g].up) continue;
    uint64_t updated = std::max(row.lastMeasured(g), explored[g]);
    oldest_up = std::min(oldest_up, updated);
    if (gateways[g].credit > 0 && updated < oldest) {
      oldest = updated;
      pick = static_cast<int>(g);
    }
  }
  bool stale = pick >= 0 && (oldest == 0 || now_ms - oldest >= settings_.stale_after_ms);
  if (!stale) {
    // A gateway that is up without credit now, or one that comes back up, is looked at again
    // by then at the latest.
    if (oldest_up != UINT64_MAX && oldest_up > 0) explore_due_[domain] = oldest_up + settings_.stale_after_ms;
    return -1;
  }
  explored[pick] = now_ms;
  return pick;
}

// When an exploration last went to each gateway for the domain's site (or the domain, while
// its site is unknown). Sites and domains are numbered apart: sites take the even slots.
uint64_t* GatewaySelector::exploredRow(uint32_t domain) {
  int site = table_.siteOf(domain);
  size_t key = site >= 0 ? 2 * static_cast<size_t>(site) : 2 * static_cast<size_t>(domain) + 1;
  size_t need = (key + 1) * table_.gateways();
  if (explored_.size() < need) explored_.resize(need, 0);
  return &explored_[key * table_.gateways()];
}

}  // namespace lbmail
