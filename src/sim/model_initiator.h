// The initiator's side of the model world, as the campaign does it: every message is decided
// by the real GatewaySelector over the real DeliveryTimeTable, within each gateway's credit; a
// message the policy parks for a gateway is decided again when that gateway's credit frees, one
// no gateway can take now on the next tick (50 ms). As in the campaign, at most a few pages of
// recipients wait in memory; the rest wait in the database (a FIFO here). Answers feed the table
// (slow_ms for a deferral or refusal) and the learning policies; deferrals are retried,
// refusals re-sent through another gateway.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "lbmail/routing/destination_load.h"
#include "lbmail/routing/delivery_time_table.h"
#include "lbmail/routing/gateway_selector.h"
#include "model_events.h"
#include "model_message.h"
#include "model_spec.h"
#include "model_stats.h"

namespace lbmail {

class ModelInitiator {
 public:
  // The gateway's answer to a probe now (nothing from a dead gateway).
  using Prober = std::function<std::optional<ProbeAnswer>(size_t gateway)>;

  ModelInitiator(const ModelSpec& spec, SelectionPolicy policy, const ModelRoutes& routes,
                 std::vector<ModelMessage>& messages, ModelEventQueue& events, ModelStats& stats, Prober prober);

  void arrived(int64_t now, uint32_t msg);
  void answered(int64_t now, uint32_t msg);
  void retryDue(int64_t now, uint32_t msg);
  void probeReply(int64_t now, uint32_t slot);
  void tick(int64_t now);
  // failure: the link to the gateway is down; what it had is sent again elsewhere.
  void gatewayLost(int64_t now, size_t gateway);
  // The oracle learns the world changed (shift, failure): its routes change with it.
  void rerouteOracle();

  uint64_t open() const { return open_; }
  uint64_t decisions() const { return earlier_decisions_ + selector_->decisions(); }

 private:
  enum class Placed { kSent, kParked, kHeld };

  Placed place(int64_t now, uint32_t msg);
  void dispatch(int64_t now, uint32_t msg);
  size_t queued() const;
  void fetch(int64_t now);
  void send(int64_t now, uint32_t msg, size_t g);
  void fillLoads(int64_t now, const ModelMessage& m);
  void creditFreed(int64_t now, size_t g);
  void redecide(int64_t now, std::deque<uint32_t>& line);
  void finish(uint32_t msg);
  void refused(int64_t now, uint32_t msg);
  void sendProbes(int64_t now);
  std::unique_ptr<GatewaySelector> makeSelector(const std::vector<int>& routes) const;

  const ModelSpec& spec_;
  SelectionPolicy policy_;
  const ModelRoutes& routes_;
  std::vector<ModelMessage>& messages_;
  ModelEventQueue& events_;
  ModelStats& stats_;
  Prober prober_;
  DeliveryTimeTable table_;
  std::unique_ptr<GatewaySelector> selector_;
  std::vector<GatewayLoad> loads_;
  std::vector<bool> up_;
  DestinationLoad load_;
  std::vector<bool> left_out_;  // per (gateway, group): the gateway REJECTed the site
  std::vector<std::deque<uint32_t>> parked_;  // per gateway: waiting for its credit
  std::deque<uint32_t> held_;                 // waiting for any gateway
  std::deque<uint32_t> backlog_;              // arrived, still in the database
  std::vector<std::pair<size_t, ProbeAnswer>> probes_;  // replies on their way, a ring
  uint32_t probe_next_ = 0;
  uint64_t open_ = 0;
  uint64_t earlier_decisions_ = 0;  // the oracle's, before its routes changed
};

}  // namespace lbmail
