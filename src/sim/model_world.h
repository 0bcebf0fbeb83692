// The model world: a discrete-event simulation on a simulated clock (µs) of one initiator, its
// gateways (credit, SMTP connections per receiver site, an optional rate cap) and the receiver
// sites (latency per gateway, workers, service time), with the scenario's change. It drives the
// real GatewaySelector and DeliveryTimeTable (through ModelInitiator): no processes, no
// sockets, reproducible by seed.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "lbmail/routing/gateway_selector.h"
#include "model_events.h"
#include "model_initiator.h"
#include "model_message.h"
#include "model_random.h"
#include "model_spec.h"
#include "model_stats.h"

namespace lbmail {

class ModelWorld {
 public:
  // The domains' popularity (a CDF over domain indexes) and groups come from the spec's seed.
  explicit ModelWorld(const ModelSpec& spec);

  // One run of the world with the policy (kFixed: the routes given).
  ModelResult run(SelectionPolicy policy, const std::string& name, const ModelRoutes& routes);


 private:
  struct Gateway {
    bool alive = true;
    int64_t cap_next_us = 0;
    uint64_t held = 0;      // messages it has: waiting, capped or in SMTP
    uint64_t waiting = 0;   // of those, not yet in SMTP
    double latency_ms = 0;  // EWMA of its recent total times (for probes)
    uint64_t warm_sent = 0;
    double tokens = 0;      // throttled: the site's allowance for it
    int64_t tokens_us = 0;
  };
  struct Connections {
    uint32_t active = 0;
    std::deque<uint32_t> queue;
  };
  struct Site {
    uint32_t busy = 0;
    std::deque<std::pair<uint32_t, uint32_t>> queue;  // (message, its gen)
  };

  void reset();
  void handle(const ModelEvent& e, ModelInitiator& initiator);
  void sendArrives(int64_t now, uint32_t msg);
  void enqueue(int64_t now, uint32_t msg);
  void startTransaction(int64_t now, uint32_t msg);
  void siteArrives(int64_t now, uint32_t msg);
  void startService(int64_t now, uint32_t msg);
  void transactionDone(int64_t now, uint32_t msg, bool worker, bool current);
  void change(int64_t now, ModelInitiator& initiator);
  void drift(int64_t now);
  bool throttles(int64_t now, Gateway& gw);
  std::optional<ProbeAnswer> probe(size_t g) const;
  double latency(uint32_t g, uint32_t k) { return latency_ms_[spec_.cell(g, k)] * (1 + spec_.jitter * (2 * world_rng_.uniform() - 1)); }
  int64_t link() const { return static_cast<int64_t>(spec_.link_ms * 1000); }
  bool changed(int64_t now) const { return spec_.change != ModelChange::kNone && now >= change_us_; }

  const ModelSpec& spec_;
  int64_t change_us_ = 0;
  std::vector<uint16_t> groups_;
  std::vector<double> cdf_;
  // Per run:
  ModelRandom arrival_rng_{1};
  ModelRandom world_rng_{2};
  ModelRandom drift_rng_{3};
  std::vector<ModelMessage> messages_;
  ModelEventQueue events_;
  std::vector<Gateway> gateways_;
  std::vector<Connections> connections_;  // per (gateway, group)
  std::vector<Site> sites_;
  std::vector<double> latency_ms_;        // per (gateway, group), now
  std::vector<double> drift_;             // per (gateway, group): the drift's factor
  bool arrivals_done_ = false;
};

}  // namespace lbmail
