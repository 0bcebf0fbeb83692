// How an outgoing SMTP connection uses TLS: the policy configured for a destination domain
// and what it comes to for one MX host (the TLS requirement a connection is opened with).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/dns/tlsa_record.h"

namespace lbmail::delivery {

// The policies an operator configures, per destination domain with a default.
enum class TlsPolicy : uint8_t {
  kNone,           // never STARTTLS
  kOpportunistic,  // STARTTLS when offered, plain when not; a failed handshake is retried in plain
  kEncrypt,        // TLS required, any certificate
  kVerify,         // TLS required, certificate valid (PKIX) for the MX host name
  kDane,           // RFC 7672: authenticated TLSA records for the MX host decide; none: opportunistic
  kMtaSts,         // RFC 8461: the domain's HTTPS policy decides; none: opportunistic
};

const char* tlsPolicyName(TlsPolicy policy);  // "none", "opportunistic", "encrypt", "verify", "dane", "mta-sts"
std::optional<TlsPolicy> parseTlsPolicy(std::string_view name);

// What one connection must achieve, the policy resolved for one MX host.
enum class TlsLevel : uint8_t {
  kNone,     // plain
  kMay,      // TLS when offered; any certificate; a failed handshake: a new connection in plain
  kEncrypt,  // TLS or nothing; any certificate
  kVerify,   // TLS with a certificate that PKIX-validates for host
  kDane,     // TLS with a certificate matching one of tlsa (usages 2 and 3, RFC 7672)
};

const char* tlsLevelName(TlsLevel level);

struct TlsRequirement {
  TlsPolicy policy = TlsPolicy::kOpportunistic;  // the configured policy it came from
  TlsLevel level = TlsLevel::kMay;
  // The MX host name: sent as SNI and checked against the certificate (kVerify; and recorded,
  // without consequence, for every other level, so a result can say "verified"). "" for a
  // static route without a name.
  std::string host;
  std::vector<dns::TlsaRecord> tlsa;  // kDane only
  // MTA-STS in testing mode (RFC 8461 section 5): verified like kVerify but delivered as kMay
  // when the check fails; the failure is reported, never enforced.
  bool testing = false;

  // Connections are pooled per key: the level, and for the levels that check the certificate
  // the host name and TLSA records too. An unchecked connection's SNI (and its informational
  // "verified") is that of the MX host it was opened for.
  std::string key() const;
};

}  // namespace lbmail::delivery
