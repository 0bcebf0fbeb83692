// A recipient between the database and its outcome: read and ready to be sent, or sent and
// waiting for its gateway's answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lbmail {

struct PendingRecipient {
  uint64_t id = 0;
  std::string email;
  std::string domain;
  uint32_t domain_id = 0;  // the delivery-time table's id, set when it is first dispatched
  int material = -1;       // -1: none; error says why
  std::string error;
  std::vector<std::optional<std::string>> values;  // per merge field
  uint32_t attempts = 0;                           // made before
  double first_at = 0;                             // unix seconds of the first attempt; 0 before it
  int avoid_gateway = -1;                          // deferred or failed over from it: another is preferred
  uint32_t requeues = 0;                           // sent back without an attempt
  std::vector<uint16_t> refused_by;                // gateways that refused it by policy (x.7.x) in this run
  bool suppressed = false;                         // on the suppression list when read: never sent
  std::string unsubscribe_token;                   // minted at its first SEND; the same on every attempt
};

struct InFlightRequest {
  PendingRecipient r;
  uint64_t request_id = 0;  // this attempt's
  size_t gateway = 0;
  uint64_t sent_ms = 0;  // on the loop's clock
};

}  // namespace lbmail
