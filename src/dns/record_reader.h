// Turns what c-ares returned for one question (status and message) into a RecordSet: follows
// CNAMEs within the answer, picks the records asked for, and works out how long the result may
// be cached.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "dns_answer.h"
#include "lbmail/dns/resolver_config.h"
#include "record_set.h"

namespace lbmail::dns {

// CNAMEs followed for one question, within answers and by new queries together.
inline constexpr int kMaxCnameHops = 8;

struct RecordReading {
  RecordSet set;
  // Non-empty when the answer ended in a CNAME to this name with no records of the type:
  // the caller asks again for it. set.expires is then the CNAME chain's expiry.
  std::string follow;
  int hops = 0;  // CNAMEs followed within this answer
};

class RecordReader {
 public:
  explicit RecordReader(const ResolverConfig& config) : config_(config) {}

  // name is lower case as asked; status an ARES_* code; message empty when none came.
  RecordReading read(const std::string& name, uint16_t type, int status, std::span<const uint8_t> message,
                     TimePoint now) const;
  // A temporary failure remembered for temporary_failure_ttl.
  RecordSet temporary(std::string reason, TimePoint now) const;

 private:
  // Where a CNAME chain ended in an answer, and the smallest TTL on the way there.
  struct ChainEnd {
    std::string owner;
    uint32_t ttl;
  };

  RecordReading fromMessage(const std::string& name, uint16_t type, std::span<const uint8_t> message,
                            TimePoint now) const;
  std::optional<ChainEnd> followChain(const DnsAnswer& answer, const std::string& name, uint16_t type,
                                      RecordReading& reading) const;
  // Adds one record of the type asked for to the set.
  void collect(const DnsRecord& r, RecordSet& set) const;
  void readNegative(const DnsAnswer& answer, const ChainEnd& end, RecordReading& reading, TimePoint now) const;
  RecordSet negative(RecordSet::Kind kind, Duration ttl, TimePoint now) const;
  TimePoint positiveExpiry(uint32_t ttl_seconds, TimePoint now) const;

  const ResolverConfig& config_;
};

}  // namespace lbmail::dns
