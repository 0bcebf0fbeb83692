// The scenarios beside the policy comparison: what each changes in the world of a run.
//   blocklist: from block_after on, group 1's sink refuses gateway 1's source with a
//              Spamhaus-style 554 5.7.1 for every recipient.
//   throttle:  group 1's sink takes at most kThrottleRate messages a second per client and
//              answers the rest with Gmail's 421 4.7.28; the oracle knows the limit.
//   warmup:    gateway 1 has a warm-up cap of warmupCap() messages per site today; one more ewma
//              run without the cap to compare the throughput with.
// The scenarios' worlds are paced (slower replies, fewer connections, no deferrals) so that a
// run lasts long enough for the gateways and the initiator to adapt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "sim_config.h"

namespace lbmail {

class SimWorld;

// What makes one run's world: its scenario and its role in it.
struct RunWorld {
  std::string scenario = "default";
  bool oracle = false;
  bool capped = true;  // warmup: false for the comparison run without gateway 1's cap
  bool shifted = false;
};

class SimScenario {
 public:
  static constexpr double kThrottleRate = 40;     // messages per second per client at group 1's sink
  static constexpr int64_t kPacedConnections = 10;  // per gateway and destination in the scenarios
  static constexpr int kPacedExtraMs = 90;          // added to every data latency of the matrix
  // warmup: the campaign paces each domain (as a sender warming up an address does), well within
  // what two of the three gateways carry; a cap on one can only leave the total unchanged where
  // the others have room.
  static constexpr double kWarmupDomainRate = 60;

  SimScenario(const SimSettings& settings, const SimWorld& world) : settings_(settings), world_(world) {}

  // The reply texts the sinks give (the client's address inside, as the real ones do).
  static std::string blockReply(const std::string& client);
  static std::string throttleReply(const std::string& client);

  // The matrix a run's sinks follow: the configured one, paced in the scenarios.
  std::vector<SimLatency> matrix(const RunWorld& run) const;
  // Rules that come before the matrix's in group's sink, and limits added to the matrix's own.
  void sinkRules(const RunWorld& run, uint32_t group, toml::array& rules) const;
  // [smtp] limits, [[smtp.domain]] (the oracle's knowledge) and [shaping] of gateway g.
  void gatewayTables(const RunWorld& run, uint32_t g, const std::string& run_name, toml::table& smtp,
                     toml::table& root) const;
  // The oracle's [[selection.route]]s: every group to its fastest gateway, but in the throttle
  // scenario group 1's domains spread over every gateway (balanced by their expected size); in
  // warmup none through the capped gateway 1, in blocklist none of group 1 through gateway 1.
  toml::array oracleRoutes(const RunWorld& run) const;
  // gateway 1's warm-up cap per site: a tenth of group 1's recipients, at least 10.
  uint64_t warmupCap() const;

 private:
  toml::table shaping(const RunWorld& run, uint32_t g, const std::string& run_name) const;
  uint32_t oracleGateway(const RunWorld& run, uint32_t group) const;

  const SimSettings& settings_;
  const SimWorld& world_;
};

}  // namespace lbmail
