// Walking a DNS response: header, question, answer and authority sections, every bound checked.
#include "dns_answer.h"

#include <ares.h>

#include <algorithm>
#include <cstring>

namespace lbmail::dns {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kFixedRecordSize = 10;  // TYPE, CLASS, TTL, RDLENGTH after the owner name
constexpr size_t kSoaCounters = 20;      // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM

uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint32_t read32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

// A cursor over the message; names are expanded by c-ares, which follows compression
// pointers anywhere in the message and refuses loops and pointers past its end.
class MessageCursor {
 public:
  explicit MessageCursor(std::span<const uint8_t> message) : message_(message) {}

  size_t offset() const { return offset_; }
  size_t left() const { return message_.size() - offset_; }
  const uint8_t* at(size_t offset) const { return message_.data() + offset; }

  // Expands the name at `offset` (which must lie before `limit`) and returns its encoded
  // length in `encoded`; nullopt when it does not expand or runs past `limit`.
  std::optional<std::string> nameAt(size_t offset, size_t limit, size_t& encoded) const {
    if (offset >= limit) return std::nullopt;
    char* expanded = nullptr;
    long length = 0;
    int rc = ares_expand_name(at(offset), message_.data(), static_cast<int>(message_.size()), &expanded, &length);
    if (rc != ARES_SUCCESS) return std::nullopt;
    std::string name(expanded);
    ares_free_string(expanded);
    if (length <= 0 || static_cast<size_t>(length) > limit - offset) return std::nullopt;
    encoded = static_cast<size_t>(length);
    // DNS names compare without regard to ASCII case (RFC 4343); keep one spelling.
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return name;
  }

  std::optional<std::string> name() {
    size_t encoded = 0;
    std::optional<std::string> n = nameAt(offset_, message_.size(), encoded);
    if (n) offset_ += encoded;
    return n;
  }

  bool skip(size_t n) {
    if (n > left()) return false;
    offset_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> message_;
  size_t offset_ = 0;
};

struct RecordHeader {
  std::string owner;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  size_t rdata = 0;  // offset of the rdata in the message
  size_t rdlength = 0;
};

std::optional<std::string> readRecordHeader(MessageCursor& cursor, RecordHeader& out) {
  std::optional<std::string> owner = cursor.name();
  if (!owner) return "record owner name does not expand";
  if (cursor.left() < kFixedRecordSize) return "record header past the end";
  const uint8_t* p = cursor.at(cursor.offset());
  out.owner = std::move(*owner);
  out.type = read16(p);
  out.klass = read16(p + 2);
  // RFC 2181 section 8: a TTL with the top bit set is to be read as zero.
  uint32_t ttl = read32(p + 4);
  out.ttl = ttl > 0x7fffffffu ? 0 : ttl;
  out.rdlength = read16(p + 8);
  cursor.skip(kFixedRecordSize);
  out.rdata = cursor.offset();
  if (!cursor.skip(out.rdlength)) return "rdata past the end";
  return std::nullopt;
}

// RFC 1035 section 3.3.14: one or more <character-string>s, each a length byte and that many
// bytes, joined here without separators as SPF and MTA-STS read them (RFC 7208 section 3.3).
// An empty rdata (no string at all) is read as an empty text rather than refused.
std::optional<std::string> readText(const uint8_t* p, size_t length, std::string& text) {
  size_t at = 0;
  while (at < length) {
    size_t n = p[at++];
    if (n > length - at) return std::string("TXT character-string past its rdata");
    text.append(reinterpret_cast<const char*>(p + at), n);
    at += n;
  }
  return std::nullopt;
}

// RFC 6698 section 2.1: usage, selector and matching type, one byte each, then the certificate
// association data. Values this program cannot use are kept: RFC 7672 section 2.2 has the
// client treat them as unusable, which is the DANE policy's decision, not the walker's.
std::optional<std::string> readTlsa(const uint8_t* p, size_t length, TlsaRecord& tlsa) {
  if (length < 3) return std::string("TLSA rdata too short");
  tlsa.usage = p[0];
  tlsa.selector = p[1];
  tlsa.matching_type = p[2];
  tlsa.data.assign(p + 3, p + length);
  return std::nullopt;
}

// Fills the typed part of an answer record; the header was read already.
std::optional<std::string> readRdata(const MessageCursor& cursor, const RecordHeader& h, DnsRecord& r) {
  const size_t end = h.rdata + h.rdlength;
  size_t encoded = 0;
  switch (h.type) {
    case kTypeA:
    case kTypeAaaa: {
      size_t want = h.type == kTypeA ? 4 : 16;
      if (h.rdlength != want) return h.type == kTypeA ? "A rdata is not 4 bytes" : "AAAA rdata is not 16 bytes";
      std::memcpy(r.address.data(), cursor.at(h.rdata), want);
      return std::nullopt;
    }
    case kTypeMx: {
      if (h.rdlength < 3) return "MX rdata too short";
      r.preference = read16(cursor.at(h.rdata));
      std::optional<std::string> exchange = cursor.nameAt(h.rdata + 2, end, encoded);
      if (!exchange) return "MX exchange does not expand within its rdata";
      r.target = std::move(*exchange);
      return std::nullopt;
    }
    case kTypeTxt:
      return readText(cursor.at(h.rdata), h.rdlength, r.text);
    case kTypeTlsa:
      return readTlsa(cursor.at(h.rdata), h.rdlength, r.tlsa);
    case kTypeCname: {
      std::optional<std::string> target = cursor.nameAt(h.rdata, end, encoded);
      if (!target) return "CNAME target does not expand within its rdata";
      r.target = std::move(*target);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

bool knownAnswerType(uint16_t type) {
  return type == kTypeA || type == kTypeAaaa || type == kTypeMx || type == kTypeCname || type == kTypeTxt ||
         type == kTypeTlsa;
}

// The SOA's two names are walked only to find MINIMUM after them.
std::optional<std::string> readSoa(const MessageCursor& cursor, const RecordHeader& h, DnsAnswer& answer) {
  const size_t end = h.rdata + h.rdlength;
  size_t mname = 0;
  size_t rname = 0;
  if (!cursor.nameAt(h.rdata, end, mname)) return "SOA MNAME does not expand within its rdata";
  if (!cursor.nameAt(h.rdata + mname, end, rname)) return "SOA RNAME does not expand within its rdata";
  size_t counters = h.rdata + mname + rname;
  if (end - counters < kSoaCounters) return "SOA rdata too short";
  uint32_t minimum = read32(cursor.at(counters + 16));
  uint32_t ttl = std::min(h.ttl, minimum);
  answer.negative_ttl = answer.negative_ttl ? std::min(*answer.negative_ttl, ttl) : ttl;
  return std::nullopt;
}

std::optional<std::string> readAnswers(MessageCursor& cursor, uint16_t count, DnsAnswer& answer) {
  for (uint16_t i = 0; i < count; ++i) {
    RecordHeader h;
    if (auto error = readRecordHeader(cursor, h)) return "answer: " + *error;
    if (h.klass != kClassIn || !knownAnswerType(h.type)) continue;
    if (answer.answers.size() == kMaxAnswerRecords) return "more than 1024 answer records";
    DnsRecord r;
    r.owner = std::move(h.owner);
    r.type = h.type;
    r.ttl = h.ttl;
    if (auto error = readRdata(cursor, h, r)) return "answer: " + *error;
    answer.answers.push_back(std::move(r));
  }
  return std::nullopt;
}

std::optional<std::string> readAuthority(MessageCursor& cursor, uint16_t count, DnsAnswer& answer) {
  for (uint16_t i = 0; i < count; ++i) {
    RecordHeader h;
    if (auto error = readRecordHeader(cursor, h)) return "authority: " + *error;
    if (h.klass != kClassIn || h.type != kTypeSoa) continue;
    if (auto error = readSoa(cursor, h, answer)) return "authority: " + *error;
  }
  return std::nullopt;
}

}  // namespace

Expected<DnsAnswer, std::string> parseDnsAnswer(std::span<const uint8_t> message) {
  if (message.size() < kHeaderSize) return unexpected(std::string("message shorter than a DNS header"));
  if (message.size() > kMaxDnsMessage) return unexpected(std::string("message longer than 65535 bytes"));
  const uint8_t* h = message.data();
  DnsAnswer answer;
  answer.truncated = (h[2] & 0x02) != 0;
  answer.authenticated = (h[3] & kFlagAuthenticData) != 0;
  answer.rcode = h[3] & 0x0f;
  const uint16_t questions = read16(h + 4);
  const uint16_t answers = read16(h + 6);
  const uint16_t authority = read16(h + 8);

  MessageCursor cursor(message);
  cursor.skip(kHeaderSize);
  for (uint16_t i = 0; i < questions; ++i) {
    if (!cursor.name()) return unexpected(std::string("question: name does not expand"));
    if (!cursor.skip(4)) return unexpected(std::string("question: type and class past the end"));
  }
  if (auto error = readAnswers(cursor, answers, answer)) return unexpected(std::move(*error));
  // The additional section is not read: glue there is not authoritative (RFC 2181
  // section 5.4.1), so MX hosts are looked up on their own.
  if (auto error = readAuthority(cursor, authority, answer)) return unexpected(std::move(*error));
  return answer;
}

}  // namespace lbmail::dns
