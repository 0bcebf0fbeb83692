// What one DNS question (name, type) came to: records, no data, no such name, or a temporary
// failure, with the time until which it may be reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"

namespace lbmail::dns {

using TimePoint = std::chrono::steady_clock::time_point;

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // lower case; "" is the root (RFC 7505 null MX)
};

struct RecordSet {
  enum class Kind : uint8_t {
    kRecords,    // at least one record of the type asked for
    kNoData,     // the name exists without records of that type
    kNxDomain,   // the name does not exist
    kTemporary,  // no usable answer now: timeout, SERVFAIL, REFUSED, malformed answer
  };

  Kind kind = Kind::kTemporary;
  std::string reason;                    // kTemporary: why
  std::vector<MxRecord> exchanges;       // MX
  std::vector<SocketAddress> addresses;  // A and AAAA, with the resolver's SMTP port
  TimePoint expires;                     // reusable before this
};

}  // namespace lbmail::dns
