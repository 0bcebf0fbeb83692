// The model world's parameters: a discrete-event stand-in for the sim's processes (gateways,
// receiver sites, one initiator) and the one change a scenario makes to it. Gateways and groups
// are numbered from 0; the defaults are the `matrix` scenario (model_scenarios.h).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim_selection.h"

namespace lbmail {

enum class ModelChange : uint8_t { kNone, kDrift, kShift, kFailure, kBlocked, kThrottled, kWarming };

struct ModelSpec {
  std::string scenario = "matrix";
  uint64_t seed = 1;
  uint32_t gateways = 3;
  uint32_t groups = 4;    // receiver sites
  uint32_t domains = 200;
  double zipf = 1.0;      // recipients' domains: Zipf(s) over ranks shuffled by seed
  bool hash_groups = false;  // domain → group by a hash (else index mod groups)
  double rate = 3000;     // Poisson arrivals, messages per second
  double seconds = 20;    // arrivals stop here; the world then drains
  double drain_seconds = 60;
  double link_ms = 0.25;  // initiator ↔ gateway, each way
  uint32_t credit = 256;  // SENDs in flight per gateway (the gateway's grant)
  double tick_ms = 50;    // the initiator re-decides what waits
  double retry_ms = 1000; // a deferred recipient is retried after this
  uint32_t max_attempts = 5;
  uint32_t max_requeues = 3;  // refusals re-sent at once in a row; then a retry's wait
  // Per (gateway, group), index g * groups + k.
  std::vector<double> latency_ms;
  std::vector<double> defer;
  std::vector<double> bounce;
  std::vector<uint32_t> connections;  // SMTP connections per (gateway, group)
  std::vector<double> gateway_cap;    // per gateway, messages per second before SMTP; 0: none
  uint32_t site_workers = 0;          // per site; 0: unlimited
  double site_service_ms = 0;         // mean of an exponential service time
  double jitter = 0.1;                // a transaction's latency × uniform(1 ± jitter)

  // The scenario's change, from change_at_s on (drift: all along).
  ModelChange change = ModelChange::kNone;
  double change_at_s = 0;
  uint32_t change_gateway = 1;
  uint32_t change_group = 1;
  uint32_t shift_to = 2;              // shift: the gateway that becomes group 1's fastest
  double drift_sigma = 0.15;
  double drift_step_ms = 500;
  double drift_min = 0.5;
  double drift_max = 4;
  double failover_ms = 1000;          // failure: the initiator notices a dead link after this
  double failover_grace_ms = 5000;    // failure target: rebalanced within this
  double throttle_per_second = 40;    // throttled: per gateway at the site
  uint64_t warm_cap = 0;              // warming: messages the gateway may send to the site

  // The initiator's selector, as the sim's initiators are configured.
  double half_life_s = sim_selection::kHalfLifeS;
  double exploration = sim_selection::kExploration;
  double hysteresis = sim_selection::kHysteresis;
  double slow_ms = 30000;
  uint64_t stale_after_ms = sim_selection::kStaleAfterMs;

  size_t cell(uint32_t g, uint32_t k) const { return static_cast<size_t>(g) * groups + k; }
};

// The oracle's routes: each domain's gateway, before and (shift, failure) after the change.
struct ModelRoutes {
  std::vector<int> before;
  std::vector<int> after;
};

}  // namespace lbmail
