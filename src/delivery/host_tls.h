// What a destination domain's TLS policy comes to for one of its MX hosts: the requirement its
// connections are opened with, or why the host may not be used at all. Decisions only: the
// lookups they are made from (TLSA records, an MTA-STS policy) are done by TlsPolicyResolver.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lbmail/delivery/tls_policy.h"
#include "lbmail/dns/tlsa_record.h"

namespace lbmail::delivery {

struct HostTls {
  std::optional<TlsRequirement> requirement;  // empty: the host is refused
  std::string refusal;                        // why, when refused

  static HostTls use(TlsRequirement r) { return {std::move(r), {}}; }
  static HostTls refuse(std::string why) { return {std::nullopt, std::move(why)}; }
};

// none, opportunistic, encrypt and verify need no lookup.
HostTls staticHostTls(TlsPolicy policy, const std::string& host);

// What a TLSA lookup for the host's _port._tcp name found.
struct TlsaLookup {
  enum class Status { kFound, kNone, kFailed } status = Status::kNone;
  bool authenticated = false;  // the resolver set AD: DNSSEC-validated (RFC 6840 section 5.7)
  std::vector<dns::TlsaRecord> records;
  std::string reason;  // kFailed: why
};

// RFC 7672 section 2.2: authenticated usable TLSA records (usages 2 and 3) make DANE; secure but
// unusable ones still make TLS mandatory; none, or an answer not authenticated, leave the host
// to opportunistic TLS. A failed lookup refuses the host when the domain's MX answer was itself
// authenticated (an attacker could be hiding the records), and is opportunistic otherwise.
HostTls daneHostTls(const std::string& host, const TlsaLookup& lookup, bool mx_authenticated);

// The TLSA records a DANE client can use (RFC 7672 section 3.1.3: usages 0 and 1 are not).
std::vector<dns::TlsaRecord> usableTlsa(const std::vector<dns::TlsaRecord>& records);

}  // namespace lbmail::delivery
