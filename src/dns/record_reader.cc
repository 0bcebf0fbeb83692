// Reading one DNS answer into a cacheable result.
#include "record_reader.h"

#include <ares.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

namespace lbmail::dns {
namespace {

std::string rcodeName(uint8_t rcode) {
  switch (rcode) {
    case 1:
      return "FORMERR";
    case kRcodeServFail:
      return "SERVFAIL";
    case 4:
      return "NOTIMP";
    case kRcodeRefused:
      return "REFUSED";
    default:
      return "rcode " + std::to_string(rcode);
  }
}

// Why c-ares gave no message, in the words an operator expects in a deferral reason.
std::string statusReason(int status) {
  switch (status) {
    case ARES_ETIMEOUT:
      return "timeout";
    case ARES_ESERVFAIL:
      return "SERVFAIL";
    case ARES_EREFUSED:
      return "REFUSED";
    case ARES_ECONNREFUSED:
      // c-ares 1.18 tries the next server (or the same one again) after a SERVFAIL, REFUSED
      // or NOTIMP answer, and when every try is spent it ends the query with this code, the
      // same as for an ICMP port unreachable: which one it was is lost.
      return "SERVFAIL, REFUSED or unreachable";
    case ARES_EFORMERR:
      return "FORMERR";
    case ARES_ENOTIMP:
      return "NOTIMP";
    default:
      return ares_strerror(status);
  }
}

SocketAddress addressOf(const DnsRecord& r, uint16_t port) {
  if (r.type == kTypeA) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, r.address.data(), 4);
    return SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&sin));
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::memcpy(&sin6.sin6_addr, r.address.data(), 16);
  return SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&sin6));
}

}  // namespace

RecordSet RecordReader::temporary(std::string reason, TimePoint now) const {
  RecordSet set;
  set.kind = RecordSet::Kind::kTemporary;
  set.reason = std::move(reason);
  set.expires = now + config_.temporary_failure_ttl;
  return set;
}

RecordSet RecordReader::negative(RecordSet::Kind kind, Duration ttl, TimePoint now) const {
  RecordSet set;
  set.kind = kind;
  set.expires = now + std::min(ttl, config_.negative_ttl_max);
  return set;
}

TimePoint RecordReader::positiveExpiry(uint32_t ttl_seconds, TimePoint now) const {
  Duration ttl = std::chrono::seconds(ttl_seconds);
  return now + std::clamp(ttl, config_.min_ttl, std::max(config_.min_ttl, config_.max_ttl));
}

RecordReading RecordReader::read(const std::string& name, uint16_t type, int status,
                                 std::span<const uint8_t> message, TimePoint now) const {
  if (!message.empty()) return fromMessage(name, type, message, now);
  RecordReading reading;
  if (status == ARES_ENOTFOUND) {
    reading.set = negative(RecordSet::Kind::kNxDomain, config_.negative_ttl_max, now);
  } else if (status == ARES_ENODATA) {
    reading.set = negative(RecordSet::Kind::kNoData, config_.negative_ttl_max, now);
  } else {
    reading.set = temporary(statusReason(status), now);
  }
  return reading;
}

RecordReading RecordReader::fromMessage(const std::string& name, uint16_t type, std::span<const uint8_t> message,
                                        TimePoint now) const {
  RecordReading reading;
  Expected<DnsAnswer, std::string> answer = parseDnsAnswer(message);
  if (!answer) {
    reading.set = temporary("malformed answer: " + answer.error(), now);
    return reading;
  }
  if (answer->rcode != kRcodeNoError && answer->rcode != kRcodeNxDomain) {
    reading.set = temporary(rcodeName(answer->rcode), now);
    return reading;
  }
  std::optional<ChainEnd> end = followChain(*answer, name, type, reading);
  if (!end) {
    reading.set = temporary("CNAME chain longer than " + std::to_string(kMaxCnameHops), now);
  } else if (reading.set.hasRecords()) {
    reading.set.kind = RecordSet::Kind::kRecords;
    reading.set.expires = positiveExpiry(end->ttl, now);
  } else {
    readNegative(*answer, *end, reading, now);
  }
  // A denial is vouched for as much as records are (RFC 4035 section 3.2.3): a DANE client
  // tells an authenticated "no TLSA" from an unvalidated one (RFC 7672 section 2.2).
  // A CNAME left to follow carries the flag to the query that follows it.
  if (reading.set.kind != RecordSet::Kind::kTemporary || !reading.follow.empty()) {
    reading.set.authenticated = answer->authenticated;
  }
  return reading;
}

void RecordReader::collect(const DnsRecord& r, RecordSet& set) const {
  switch (r.type) {
    case kTypeMx:
      set.exchanges.push_back({r.preference, r.target});
      break;
    case kTypeTxt:
      set.texts.push_back(r.text);
      break;
    case kTypeTlsa:
      set.tlsa.push_back(r.tlsa);
      break;
    default:
      set.addresses.push_back(addressOf(r, config_.smtp_port));
      break;
  }
}

// Walks from the name asked for along CNAMEs and collects the records of the type asked for
// where the chain ends; nullopt for a chain longer than kMaxCnameHops (a loop, most likely).
std::optional<RecordReader::ChainEnd> RecordReader::followChain(const DnsAnswer& answer, const std::string& name,
                                                                uint16_t type, RecordReading& reading) const {
  ChainEnd end{name, std::numeric_limits<uint32_t>::max()};
  RecordSet& set = reading.set;
  for (;;) {
    for (const DnsRecord& r : answer.answers) {
      if (r.type != type || r.owner != end.owner) continue;
      end.ttl = std::min(end.ttl, r.ttl);
      collect(r, set);
    }
    if (set.hasRecords()) return end;
    auto cname = std::find_if(answer.answers.begin(), answer.answers.end(),
                              [&](const DnsRecord& r) { return r.type == kTypeCname && r.owner == end.owner; });
    if (cname == answer.answers.end()) return end;
    if (reading.hops == kMaxCnameHops) return std::nullopt;
    ++reading.hops;
    end.ttl = std::min(end.ttl, cname->ttl);
    end.owner = cname->target;
  }
}

// No records of the type at the chain's end: no such name, no data, or a CNAME whose target
// the server did not follow.
void RecordReader::readNegative(const DnsAnswer& answer, const ChainEnd& end, RecordReading& reading,
                                TimePoint now) const {
  // RFC 2308 section 5: a negative answer lives as long as its SOA says, here at most
  // negative_ttl_max; without an SOA (dnsmasq sends none) that maximum. A CNAME on the way
  // may expire sooner.
  Duration ttl = answer.negative_ttl ? Duration(std::chrono::seconds(*answer.negative_ttl)) : config_.negative_ttl_max;
  if (reading.hops > 0) ttl = std::min<Duration>(ttl, std::chrono::seconds(end.ttl));
  // RFC 6604: after CNAMEs, NXDOMAIN is about the last name of the chain.
  if (answer.rcode == kRcodeNxDomain) {
    reading.set = negative(RecordSet::Kind::kNxDomain, ttl, now);
  } else if (reading.hops > 0) {
    reading.follow = end.owner;
    reading.set.expires = positiveExpiry(end.ttl, now);
  } else {
    reading.set = negative(RecordSet::Kind::kNoData, ttl, now);
  }
}

}  // namespace lbmail::dns
