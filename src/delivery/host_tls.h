// What a destination domain's TLS policy comes to for one of its MX hosts: the requirement its
// connections are opened with, or why the host may not be used at all. Decisions only: the
// lookups they are made from (TLSA records, an MTA-STS policy) are done by TlsPolicyResolver.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lbmail/delivery/tls_policy.h"
#include "lbmail/dns/tlsa_record.h"
#include "lbmail/mta_sts/mta_sts_policy.h"

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
// to opportunistic TLS. A failed lookup refuses the host: it is asked only for hosts whose
// addresses DNSSEC vouched for (section 2.2.2), where a failure may be an attacker hiding the
// records.
HostTls daneHostTls(const std::string& host, const TlsaLookup& lookup);

// RFC 8461 section 5: an enforce policy admits only the MX hosts it names, verified; a testing
// policy checks and reports but delivers as opportunistic; none (or no policy at all): as
// opportunistic.
HostTls mtaStsHostTls(const std::string& host, const mta_sts::MtaStsPolicy* policy);

// The TLSA records a DANE client can use (RFC 7672 section 3.1.3: usages 0 and 1 are not).
std::vector<dns::TlsaRecord> usableTlsa(const std::vector<dns::TlsaRecord>& records);

}  // namespace lbmail::delivery
