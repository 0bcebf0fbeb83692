// One message on its way through the engine: what to send, where it may go, and the clock
// readings its timings come from. Owned by exactly one place at a time (the resolver wait, a
// destination queue, or a connection's transaction).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/delivery/delivery_result.h"
#include "lbmail/delivery/tls_policy.h"
#include "lbmail/smtp/outgoing_message.h"

namespace lbmail::delivery {

class SiteGate;

struct DeliveryCandidate {
  std::string mx_host;
  SocketAddress address;
  size_t target = 0;                          // its host's index in the MX answer
  std::shared_ptr<const TlsRequirement> tls;  // what its connections must achieve
};

struct Delivery {
  uint64_t id = 0;
  std::string domain;
  smtp::OutgoingMessage message;
  std::function<void(DeliveryResult&& result)> done;  // DeliveryEngine::Done
  std::function<bool()> may_start;                    // DeliveryEngine::StartCheck; empty: always
  std::vector<DeliveryCandidate> candidates;  // MX hosts by preference, each address in turn
  size_t next_candidate = 0;
  const DeliveryCandidate* current = nullptr;
  uint32_t attempts = 0;
  uint32_t requeues = 0;  // times a reused connection died under it before any reply
  std::string last_failure;
  // The recipient domain's site and the gate of (source, site) its pools share; reserved: the
  // shaping table counted it against the site's warm-up cap and it has not started yet.
  std::shared_ptr<SiteGate> gate;
  bool reserved = false;
  uint64_t submitted_ns = 0;
  uint64_t dns_ns = 0;
  uint64_t enqueued_ns = 0;  // joined its destination's queue
  uint64_t queue_wait_ns = 0;
};

}  // namespace lbmail::delivery
