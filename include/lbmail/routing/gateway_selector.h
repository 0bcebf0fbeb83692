// Which gateway gets the next message for a domain. `ewma` (the default) picks the gateway
// expected to deliver soonest: its expected delivery time for the domain plus the wait its
// current load implies; it explores a bounded share of decisions to refresh stale or unknown
// entries, and keeps a domain on its gateway unless another is clearly better (hysteresis), so
// a domain does not flap between source addresses on noise. The rivals from the
// load-balancing literature (`c3`, `prequal`, `peak_ewma_p2c`, `least_request_p2c`: see
// docs/selection.md) and `round_robin`, `random` and `least_loaded` exist for comparison. Only
// gateways that are up and hold credit are candidates.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lbmail/routing/delivery_time_table.h"

namespace lbmail {

// kFixed sends each domain to the gateway its route names (the simulation's oracle, which
// knows the fastest gateway from its latency matrix); an unrouted domain goes least-loaded.
enum class SelectionPolicy {
  kEwma,
  kRoundRobin,
  kRandom,
  kLeastLoaded,
  kFixed,
  kC3,              // Suresh et al., NSDI 2015: replica ranking with a cubic queue penalty, cubic rate control
  kPrequal,         // Wydrowski et al., NSDI 2024: probes, hot-cold lexicographic choice
  kPeakEwmaP2c,     // Finagle/Linkerd PeakEwma: peak-sensitive latency × (pending + 1), two random choices
  kLeastRequestP2c  // Envoy LEAST_REQUEST: fewer in flight of two random choices
};
std::optional<SelectionPolicy> parseSelectionPolicy(std::string_view name);
std::string_view selectionPolicyName(SelectionPolicy p);

struct GatewayLoad {
  bool up = false;
  uint64_t credit = 0;                // SENDs the gateway would take now
  // SENDs without an answer yet: to the message's destination (DestinationLoad) where the
  // caller knows it, else to the gateway.
  uint64_t in_flight = 0;
  // A wait the gateway's own shaping adds for the domain's site (throttled: its in flight there
  // over the rate the site allows), ms; ewma adds it to the cost, so traffic spills over.
  double extra_wait_ms = 0;
  // How long the gateway has answered nothing while messages to it are in flight, ms: nothing
  // sent there now comes back sooner (a gateway that died or stalls, before its link is known
  // to be down).
  double silent_ms = 0;
};

// What the answer to one message tells the policies that learn from answers (c3, peak-EWMA).
// Fed for every RESULT, and for a message lost with its link (response_ms: the time it waited).
struct GatewayAnswer {
  double response_ms = 0;  // SEND to RESULT on the initiator's clock
  double service_ms = 0;   // the gateway's own time for it: RESULT timings, total less its queue wait
  uint64_t queue = 0;      // messages waiting at the gateway when it answered (RESULT's load fields)
};

// What a gateway answers to a probe (prequal): requests in flight there, and its latency
// estimate for a request arriving now.
struct ProbeAnswer {
  uint64_t requests_in_flight = 0;
  double latency_ms = 0;
};

struct SelectorSettings {
  SelectionPolicy policy = SelectionPolicy::kEwma;
  double exploration = 0.05;        // at most this share of decisions explore (0..0.5)
  uint64_t stale_after_ms = 60000;  // an entry not refreshed for this long may be explored
  double hysteresis = 0.15;         // stay unless another gateway is this much cheaper
  double slow_ms = 30000;           // an expectation this long says only "slow" (refusals, deferrals)
  uint64_t seed = 1;
  // kFixed: (domain, gateway index); "example.com" names the domain, ".example.com" every name
  // below it.
  std::vector<std::pair<std::string, int>> routes;
  // c3: the number of initiators sharing the gateways (n in q̂ = 1 + os·n + q̄).
  uint32_t initiators = 1;
  // ewma: messages a gateway is taken to carry to one destination at once. Beyond them, each
  // message in flight waits about one delivery time over this. Half the gateways' default of 20
  // connections per destination: delivery times grow before every connection is busy, and a
  // gateway with fewer (or a rate cap) is not overfilled (docs/selection.md has the sweep).
  uint32_t destination_concurrency = 10;
};

class GatewaySelector {
 public:
  // In flight to a gateway that has not measured a domain yet: enough to measure it within its
  // first answers, not a blind wave.
  static constexpr uint64_t kProbes = 4;

  // prequal: probes sent after each decision (the paper's r_probe).
  static constexpr size_t kProbesPerDecision = 3;

  GatewaySelector(const DeliveryTimeTable& table, SelectorSettings settings);

  // The gateway for the next message to domain, or -1 when no gateway is a candidate.
  // With wait_for given, ewma and fixed may also answer -1 and set *wait_for to a gateway that
  // is up but out of credit now: the message will arrive sooner if it waits for that gateway's
  // next credit than if it goes through a slower one at once (with a backlog, credit frees up
  // one gateway at a time, and taking whichever frees first would be round-robin by another
  // name). c3 answers -1 when no candidate holds a rate token, with *wait_for set to the one
  // whose token comes first if an answer from it is still to come (otherwise the caller's
  // next tick asks again).
  int choose(uint32_t domain, std::span<const GatewayLoad> gateways, uint64_t now_ms, int* wait_for = nullptr);

  // ewma: whether a message to the domain waits rather than go out now, because nothing is
  // known of the domain yet (no sample, site sample or RTT prior on any gateway) and
  // kProbes per gateway are already in flight to it: the first answers come back in
  // milliseconds, and then the rest go where they arrive soonest, not in a blind wave.
  bool waitsForProbes(uint32_t domain, uint64_t domain_in_flight) const;

  // The gateway the domain is on now (-1 before its first ewma decision).
  int currentGateway(uint32_t domain) const { return domain < current_.size() ? current_[domain] : -1; }
  uint64_t decisions() const { return decisions_; }
  uint64_t explorations() const { return explorations_; }
  uint64_t switches() const { return switches_; }

  // What the learning policies hear (every policy may be told; those that do not learn ignore
  // it). sent: a SEND went to the gateway; answered: its RESULT (or its loss) came back. c3
  // learns all three fields of the answer and counts it in the gateway's receive rate;
  // peak_ewma_p2c learns response_ms; the others, and ewma (which learns from its table),
  // ignore it. The rivals count what is outstanding at each gateway from sent() and
  // answered() (every SEND must then be answered, its loss included), as their clients do;
  // a larger GatewayLoad::in_flight stands in (a caller that does not report its sends).
  void sent(size_t gateway, uint32_t domain, uint64_t now_ms);
  void answered(size_t gateway, uint32_t domain, const GatewayAnswer& answer, uint64_t now_ms);
  // prequal: the gateways to probe now (asynchronously: the caller sends each a probe and
  // passes its answer to probed()): kProbesPerDecision distinct random gateways that were up
  // at each decision since the last call (at most every one up). Empty for the other policies.
  std::span<const size_t> probesDue(uint64_t now_ms);
  void probed(size_t gateway, const ProbeAnswer& answer, uint64_t now_ms);

 private:
  int chooseEwma(uint32_t domain, std::span<const GatewayLoad> gateways, uint64_t now_ms, int* wait_for);
  int chooseFixed(uint32_t domain, std::span<const GatewayLoad> gateways, int* wait_for);
  // What one pass over a domain's row finds (ewma).
  struct Scan {
    int best = -1;  // the cheapest measured gateway with credit
    double best_cost = 0;
    int best_up = -1;  // the cheapest measured gateway that is up, credit or not
    double best_up_cost = 0;
    double best_up_ms = 0;  // its expected delivery time
    double current_cost = std::numeric_limits<double>::quiet_NaN();  // where the domain is now
    int probe = -1;          // the first candidate still unmeasured with room for a probe
    bool measured = false;   // some gateway that is up has measured the domain
    bool measuring = false;  // some gateway that is up has not
    bool fast = false;       // some measurement is under slow_ms
  };
  Scan scan(uint32_t domain, std::span<const GatewayLoad> gateways) const;
  int leastLoaded(std::span<const GatewayLoad> gateways) const;
  int explore(uint32_t domain, std::span<const GatewayLoad> gateways, uint64_t now_ms);
  uint64_t* exploredRow(uint32_t domain);
  uint64_t nextRandom();
  // The rivals (gateway_selector_rivals.cc): per gateway, whatever the domain.
  struct Rivals;
  struct RivalsDeleter {
    void operator()(Rivals* r) const;
  };
  Rivals& rivals(size_t gateways);
  int chooseC3(std::span<const GatewayLoad> gateways, uint64_t now_ms, int* wait_for);
  int choosePrequal(std::span<const GatewayLoad> gateways, uint64_t now_ms);
  int chooseTwoChoices(std::span<const GatewayLoad> gateways, uint64_t now_ms);
  int randomCandidate(std::span<const GatewayLoad> gateways);
  uint64_t outstanding(size_t g, const GatewayLoad& load) const;

  const DeliveryTimeTable& table_;
  SelectorSettings settings_;
  std::vector<uint64_t> explore_due_;  // per domain: nothing of its is stale before this
  std::vector<uint64_t> explored_;  // per (site or domain, gateway): the last exploration sent
  std::vector<int> current_;  // per domain: the gateway it is on (-1: none yet)
  std::vector<int> routed_;   // kFixed, per domain: its route's gateway (-1: none, -2: not looked up)
  uint64_t rng_;
  size_t round_robin_ = 0;
  double exploration_credit_ = 0;
  uint64_t decisions_ = 0;
  uint64_t explorations_ = 0;
  uint64_t switches_ = 0;
  std::unique_ptr<Rivals, RivalsDeleter> rivals_;  // made on a rival's first use
};

}  // namespace lbmail
