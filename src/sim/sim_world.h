// The simulated world, made once per simulation: synthetic domains in groups (network regions)
// with a skewed size distribution, a recipient database, media of realistic sizes in a cache,
// a link key, and the configuration of every process (dnsmasq, one sink per group, the
// gateways, the initiator per run). Each process has its own loopback address.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <toml++/toml.h>

#include "lbmail/core/expected.h"
#include "sim_config.h"
#include "sim_scenario.h"

namespace lbmail {

class SimWorld {
 public:
  SimWorld(const SimSettings& settings, std::string binary, std::string dnsmasq);

  // Writes the database, media cache and key under the work folder (blocking: run it off the
  // loop). Returns an error text, or "".
  std::string build();

  // Addresses: 127.B.0.1 DNS, 127.B.1.k sinks, 127.B.2.g gateway links, 127.B.3.g gateway
  // sources, 127.B.4.1 the initiator; B from the pid so that two simulations do not meet.
  std::string dnsAddress() const { return ip(0, 1) + ":5353"; }
  std::string sinkIp(uint32_t group) const { return ip(1, group + 1); }
  std::string gatewayLink(uint32_t g) const { return ip(2, g + 1) + ":7301"; }
  std::string gatewaySource(uint32_t g) const { return ip(3, g + 1); }
  static constexpr uint16_t kSmtpPort = 2525;

  bool useDnsmasq() const { return !dnsmasq_.empty(); }
  std::vector<std::string> dnsmasqArgs() const;
  // The sink of one group; run.shifted: the shift scenario's rules come into force after
  // shift_after; run.scenario: the scenario's rules (sim_scenario.h).
  // In the scenarios, with run_name given, the sink writes its refusal log.
  std::string sinkConfig(uint32_t group, const RunWorld& run, const std::string& run_name = "") const;
  std::string refusalLog(const std::string& run_name, uint32_t group) const {
    return path(run_name + "-sink-g" + std::to_string(group + 1) + "-refusals.jsonl");
  }
  std::string gatewayConfig(uint32_t g, const RunWorld& run, const std::string& run_name) const;
  // With tls: the certificate and key of one group's sink, which build() writes.
  std::string sinkCertificate(uint32_t group) const { return path("tls/sink-g" + std::to_string(group + 1) + ".pem"); }
  std::string sinkKey(uint32_t group) const { return path("tls/sink-g" + std::to_string(group + 1) + ".key"); }
  // policy "fixed" routes every group to its fastest gateway (the oracle).
  std::string initiatorConfig(const std::string& run, const std::string& policy, const RunWorld& world) const;
  const SimScenario& scenario() const { return scenario_; }

  std::string path(const std::string& name) const { return settings_.work_dir + "/" + name; }
  const std::string& binary() const { return binary_; }
  // The group of one of the world's domains; none for a name the world did not make.
  std::optional<uint32_t> groupOfDomain(const std::string& domain) const;
  uint64_t recipientsInGroup(uint32_t group) const { return group_recipients_[group]; }
  // The gateway that is fastest for group 0 after the shift.
  uint32_t shiftedBest() const;
  const std::string& gatewayName(uint32_t g) const { return gateway_names_[g]; }
  const std::vector<std::string>& gatewayNames() const { return gateway_names_; }
  // Domain d's name; d mod groups is its group, and its expected size falls as 1/(d+1).
  const std::vector<std::string>& domainNames() const { return domain_names_; }
  // The index of a gateway by the name its config gave it; none for a name the world did not make.
  std::optional<uint32_t> gatewayIndex(const std::string& name) const;

 private:
  std::string ip(int third, uint32_t fourth) const;
  const std::string& domainName(uint32_t d) const { return domain_names_[d]; }
  // The rules of one group's sink from matrix, in force after `after` when it is not empty.
  void addSinkRules(toml::array& rules, uint32_t group, const std::vector<SimLatency>& matrix,
                    const std::string& after) const;
  toml::table gatewayDns() const;
  toml::array materials() const;
  std::string writeSinkCertificates() const;

  const SimSettings& settings_;
  std::string binary_;
  std::string dnsmasq_;
  int second_octet_;
  std::vector<uint64_t> group_recipients_;
  // Names are made once, here, and read back through these maps rather than parsed.
  std::vector<std::string> gateway_names_;
  std::unordered_map<std::string, uint32_t> gateway_index_;
  std::vector<std::string> domain_names_;
  std::unordered_map<std::string, uint32_t> domain_group_;
  SimScenario scenario_{settings_, *this};
};

}  // namespace lbmail
