// Turning cached DNS results into the answers MTA-STS and DANE read.
#include "lookup_answers.h"

#include <cstring>

namespace lbmail::dns {
namespace {

// kOk, or kPermanent / kTemporary with the reason, as MX lookups report them.
void setStatus(const RecordSet& set, const char* type, LookupStatus& status, std::string& reason) {
  switch (set.kind) {
    case RecordSet::Kind::kRecords:
      status = LookupStatus::kOk;
      return;
    case RecordSet::Kind::kNxDomain:
      status = LookupStatus::kPermanent;
      reason = "NXDOMAIN";
      return;
    case RecordSet::Kind::kNoData:
      status = LookupStatus::kPermanent;
      reason = std::string("no ") + type + " record";
      return;
    case RecordSet::Kind::kTemporary:
      status = LookupStatus::kTemporary;
      reason = set.reason;
      return;
  }
}

SocketAddress withoutPort(const SocketAddress& address) {
  sockaddr_storage storage{};
  std::memcpy(&storage, address.sockaddrPtr(), address.length());
  if (storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage)->sin_port = 0;
  } else {
    reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = 0;
  }
  return SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&storage));
}

bool negative(const RecordSet& set) {
  return set.kind == RecordSet::Kind::kNoData || set.kind == RecordSet::Kind::kNxDomain;
}

}  // namespace

TxtAnswer txtAnswer(const RecordSet& txt) {
  TxtAnswer answer;
  setStatus(txt, "TXT", answer.status, answer.reason);
  answer.texts = txt.texts;
  answer.authenticated = txt.authenticated;
  return answer;
}

TlsaAnswer tlsaAnswer(const RecordSet& tlsa) {
  TlsaAnswer answer;
  setStatus(tlsa, "TLSA", answer.status, answer.reason);
  answer.records = tlsa.tlsa;
  answer.authenticated = tlsa.authenticated;
  return answer;
}

// Addresses from either answer make the host reachable; only two denials make it permanent,
// as for an implicit MX (MxLookup::compose).
AddressAnswer addressAnswer(const RecordSet& a, const RecordSet& aaaa) {
  AddressAnswer answer;
  for (const RecordSet* set : {&a, &aaaa}) {
    for (const SocketAddress& address : set->addresses) answer.addresses.push_back(withoutPort(address));
  }
  answer.authenticated = a.authenticated && aaaa.authenticated;
  if (!answer.addresses.empty()) {
    answer.status = LookupStatus::kOk;
  } else if (negative(a) && negative(aaaa)) {
    answer.status = LookupStatus::kPermanent;
    answer.reason = a.kind == RecordSet::Kind::kNxDomain ? "NXDOMAIN" : "no A or AAAA record";
  } else {
    answer.status = LookupStatus::kTemporary;
    answer.reason = a.kind == RecordSet::Kind::kTemporary ? a.reason : aaaa.reason;
  }
  return answer;
}

}  // namespace lbmail::dns
