// What a TXT, TLSA or address lookup says about a name: the records, or why there are none,
// and whether the resolver vouched for them (the AD bit, RFC 4035 section 3.2.3).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/dns/mx_answer.h"
#include "lbmail/dns/tlsa_record.h"

namespace lbmail::dns {

// status is kOk with at least one record, kPermanent (records empty) for NXDOMAIN or a name
// without records of the type, kTemporary for a timeout, SERVFAIL or a malformed answer.
// authenticated: every response on the way (CNAMEs followed included) had the AD bit set;
// it is meaningful only when the resolver is trusted (a validating one on the host), and it
// also covers negative answers (an authenticated denial).

struct TxtAnswer {
  LookupStatus status = LookupStatus::kTemporary;
  std::string reason;  // why, when not kOk: "NXDOMAIN", "no TXT record", "timeout", ...
  // One string per TXT record, its character-strings joined without separators (RFC 7208
  // section 3.3, RFC 8461 section 3.1), in the order DNS gave them.
  std::vector<std::string> texts;
  bool authenticated = false;
  bool from_cache = false;
};

struct TlsaAnswer {
  LookupStatus status = LookupStatus::kTemporary;
  std::string reason;
  bool authenticated = false;  // RFC 7672 section 2.2: only a secure TLSA RRset is usable
  std::vector<TlsaRecord> records;  // as published, usable or not (RFC 7672 section 2.2)
  bool from_cache = false;
};

struct AddressAnswer {
  LookupStatus status = LookupStatus::kTemporary;
  std::string reason;
  std::vector<SocketAddress> addresses;  // port 0; IPv4 first, then IPv6
  bool authenticated = false;            // both the A and the AAAA answer had AD
  bool from_cache = false;               // both answers came from the cache
};

using TxtDone = std::function<void(const TxtAnswer&)>;
using TlsaDone = std::function<void(const TlsaAnswer&)>;
using AddressDone = std::function<void(const AddressAnswer&)>;

}  // namespace lbmail::dns
