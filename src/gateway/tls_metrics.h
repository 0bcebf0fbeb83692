// The gateway's TLS figures: how the connections that carried messages were protected, and how
// often a destination's TLS policy stopped a delivery, per policy, for /metrics and /status.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/delivery/delivery_result.h"

namespace lbmail {

class TlsMetrics {
 public:
  explicit TlsMetrics(MetricsRegistry& metrics);

  void count(const delivery::DeliveryResult& r);
  // The "policies" member of /status gateway.tls: the counts of each policy that saw a message.
  void writePolicies(JsonWriter& w) const;

  // A delivery that a TLS requirement stopped: its reason carries the marker the delivery
  // engine gives such failures ("TLS required (verify): ...", "MTA-STS: ...", "DANE: ...").
  static bool isPolicyFailure(const delivery::DeliveryResult& r);
  // The version label: OpenSSL's name, or "none" for a plain session.
  static std::string versionLabel(const delivery::TlsInfo& tls);

  static constexpr size_t kPolicies = static_cast<size_t>(delivery::TlsPolicy::kMtaSts) + 1;
  // Distinct version labels before "other": the label's values come from the peer's handshake.
  static constexpr size_t kMaxVersions = 8;

 private:
  struct PolicyCounts {
    uint64_t messages = 0;   // carried by a connection, TLS or plain
    uint64_t encrypted = 0;  // of those, over TLS
    uint64_t verified = 0;   // of those, with the certificate checked out
    uint64_t failures = 0;
    std::map<std::string, uint64_t> versions;
    Counter* failures_total = nullptr;
  };

  Counter& messagesCounter(delivery::TlsPolicy policy, const std::string& version, bool verified);

  MetricsRegistry& metrics_;
  std::array<PolicyCounts, kPolicies> policies_;
  std::map<std::tuple<size_t, std::string, bool>, Counter*> messages_;
  std::set<std::string> versions_seen_;
};

}  // namespace lbmail
