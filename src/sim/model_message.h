// One recipient's message in the model world, from its arrival at the initiator to its end.
#pragma once

#include <cstdint>

namespace lbmail {

// What a gateway answers for a message.
enum class ModelOutcome : uint8_t {
  kDelivered,
  kDeferred,   // 4xx: retried after a while
  kBounced,    // 5xx: the recipient ends bounced
  kBlocked,    // 554 5.7.1: refused by policy, re-sent through another gateway
  kThrottled,  // 421 4.7.28: requeued at once, avoiding that gateway
  kRejected,   // REJECT (site unavailable): the gateway may not send there any more
};

enum class ModelMessageState : uint8_t { kWaiting, kInFlight, kDone };

struct ModelMessage {
  int64_t arrived_us = 0;     // at the initiator
  int64_t sent_us = 0;        // the last SEND
  int64_t at_gateway_us = 0;  // the last SEND reached its gateway
  int64_t smtp_start_us = 0;
  uint32_t domain = 0;
  uint32_t gen = 0;           // bumped on each SEND: older events for it are void
  uint32_t queue = 0;         // the gateway's waiting messages when it answered
  uint32_t service_us = 0;    // the gateway's SMTP time for it
  uint16_t group = 0;
  uint16_t refused = 0;       // gateways that refused it by policy (bits)
  int8_t gateway = -1;        // where the last SEND went
  int8_t avoid = -1;          // a gateway to avoid next (deferred or throttled there)
  uint8_t attempts = 0;
  uint8_t requeues = 0;
  ModelOutcome outcome = ModelOutcome::kDelivered;
  ModelMessageState state = ModelMessageState::kWaiting;
};

}  // namespace lbmail
