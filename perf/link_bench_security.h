// The credentials both processes of perf/link_bench use: one key, as a deployment's key file,
// bound to the benchmark gateway's name (TLS 1.3 external PSK with ECDHE, docs/protocol.md).
#pragma once

#include "lbmail/proto/link_security.h"

namespace lbmail::perf {

// The gateway's name in the benchmark (its [node] name).
inline constexpr const char* kBenchGatewayName = "bench-gw";

// Built on first use, in the process that uses it (the gateway side in the gateway process).
inline const proto::LinkSecurity& benchSecurity(proto::Role role) {
  constexpr const char* kKey = "lbmail link benchmark key, 32 b.";
  static const auto gateway = proto::LinkSecurity::fromKeyBytes(proto::Role::kGateway, kKey, kBenchGatewayName);
  static const auto initiator = proto::LinkSecurity::fromKeyBytes(proto::Role::kInitiator, kKey, kBenchGatewayName);
  return role == proto::Role::kGateway ? *gateway : *initiator;
}

}  // namespace lbmail::perf
