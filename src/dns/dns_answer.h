// A walker over a DNS response message (RFC 1035 section 4) that keeps what c-ares 1.18's
// parsers drop: the TTL of every answer record, the SOA of a negative answer and the AD bit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/dns/tlsa_record.h"

namespace lbmail::dns {

// RR types and the class this walker understands (RFC 1035 section 3.2.2, RFC 3596,
// RFC 6698 section 7.1).
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeMx = 15;
inline constexpr uint16_t kTypeTxt = 16;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeTlsa = 52;
inline constexpr uint16_t kClassIn = 1;

// Response codes (RFC 1035 section 4.1.1).
inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;
inline constexpr uint8_t kRcodeRefused = 5;

// Header flag bits in the message's fourth byte (RFC 1035 section 4.1.1, RFC 4035 section 3.2.3).
inline constexpr uint8_t kFlagAuthenticData = 0x20;

// One IN record of the answer section whose type the walker knows (A, AAAA, MX, CNAME, TXT,
// TLSA).
struct DnsRecord {
  std::string owner;  // lower case, no trailing dot
  uint16_t type = 0;
  uint32_t ttl = 0;
  uint16_t preference = 0;  // MX
  std::string target;       // MX exchange or CNAME target, lower case; "" is the root
  std::array<uint8_t, 16> address{};  // A (first 4 bytes) or AAAA, network order
  std::string text;                   // TXT: the character-strings joined, bytes as sent
  TlsaRecord tlsa;                    // TLSA
};

struct DnsAnswer {
  uint8_t rcode = 0;
  bool truncated = false;
  bool authenticated = false;  // AD: the resolver validated the answer and the authority data
  std::vector<DnsRecord> answers;
  // From an SOA in the authority section: min(its TTL, its MINIMUM), how long a negative
  // answer may be cached (RFC 2308 section 5).
  std::optional<uint32_t> negative_ttl;
};

// Limits on what one message may make the walker hold.
inline constexpr size_t kMaxDnsMessage = 65535;  // the largest TCP message (RFC 1035 4.2.2)
inline constexpr size_t kMaxAnswerRecords = 1024;

// Walks a whole response. Records of other types or classes are skipped, not refused. An
// error says what was wrong: truncated header, a name that does not expand (bad label,
// compression loop, pointer past the end), rdata past the end or of the wrong length, a TXT
// character-string past its rdata, a TLSA rdata shorter than its three fields.
Expected<DnsAnswer, std::string> parseDnsAnswer(std::span<const uint8_t> message);

}  // namespace lbmail::dns
