// What one DNS question (name, type) came to: records, no data, no such name, or a temporary
// failure, with the time until which it may be reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/dns/tlsa_record.h"

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
  std::vector<std::string> texts;        // TXT: each record's character-strings joined
  std::vector<TlsaRecord> tlsa;          // TLSA
  // The response (every response, when CNAMEs were followed by new queries) had the AD bit:
  // the resolver says it validated the records or the denial (RFC 4035 section 3.2.3).
  bool authenticated = false;
  TimePoint expires;  // reusable before this

  bool hasRecords() const { return !exchanges.empty() || !addresses.empty() || !texts.empty() || !tlsa.empty(); }
};

}  // namespace lbmail::dns
