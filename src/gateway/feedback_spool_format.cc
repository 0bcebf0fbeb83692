// Encoding and decoding the feedback spool's records.
#include "feedback_spool_format.h"

#include <xxhash.h>

#include <optional>

namespace lbmail {
namespace {

template <typename T>
void put(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

template <typename Len>
void putText(std::string& out, std::string_view text) {
  size_t n = std::min<size_t>(text.size(), Len(~Len(0)));
  put<Len>(out, static_cast<Len>(n));
  out.append(text.substr(0, n));
}

// Reads little-endian fields from a payload; any read past its end marks it bad.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    T v = 0;
    if (bytes_.size() < sizeof(T)) return fail<T>();
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint64_t>(static_cast<uint8_t>(bytes_[i])) << (8 * i));
    bytes_.remove_prefix(sizeof(T));
    return v;
  }
  template <typename Len>
  std::string text() {
    Len n = get<Len>();
    if (bytes_.size() < n) return fail<std::string>();
    std::string s(bytes_.substr(0, n));
    bytes_.remove_prefix(n);
    return s;
  }
  bool ok() const { return ok_ && bytes_.empty(); }

 private:
  template <typename T>
  T fail() {
    ok_ = false;
    bytes_ = {};
    return T();
  }
  std::string_view bytes_;
  bool ok_ = true;
};

std::optional<SpoolRecord> decodePayload(std::string_view payload) {
  Reader r(payload);
  SpoolRecord rec;
  uint8_t type = r.get<uint8_t>();
  rec.type = static_cast<SpoolRecord::Type>(type);
  switch (rec.type) {
    case SpoolRecord::Type::kEvent: {
      FeedbackEvent& e = rec.event;
      e.sequence = r.get<uint64_t>();
      uint8_t kind = r.get<uint8_t>();
      if (kind == 0 || kind > proto::kMaxFeedbackKind) return std::nullopt;
      e.kind = static_cast<proto::FeedbackKind>(kind);
      e.campaign = r.get<uint32_t>();
      e.recipient = r.get<uint64_t>();
      e.attempt = r.get<uint8_t>();
      e.at_ms = r.get<uint64_t>();
      e.status = r.text<uint8_t>();
      e.source = r.text<uint8_t>();
      e.detail = r.text<uint16_t>();
      break;
    }
    case SpoolRecord::Type::kAcknowledged: {
      uint32_t n = r.get<uint32_t>();
      if (n > kMaxSpoolPayload / 8) return std::nullopt;
      for (uint32_t i = 0; i < n; ++i) rec.acknowledged.push_back(r.get<uint64_t>());
      break;
    }
    case SpoolRecord::Type::kRecordedToken:
      // The kind, then the fields of a used token.
      rec.kind = static_cast<proto::FeedbackKind>(r.get<uint8_t>());
      if (static_cast<uint8_t>(rec.kind) == 0 || static_cast<uint8_t>(rec.kind) > proto::kMaxFeedbackKind) return std::nullopt;
      [[fallthrough]];
    case SpoolRecord::Type::kUsedToken:
      rec.token.campaign = r.get<uint32_t>();
      rec.token.recipient = r.get<uint64_t>();
      rec.token.attempt = r.get<uint8_t>();
      rec.at_ms = r.get<uint64_t>();
      break;
    case SpoolRecord::Type::kNextSequence: rec.next_sequence = r.get<uint64_t>(); break;
    default: return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;
  return rec;
}

}  // namespace

void appendSpoolRecord(const SpoolRecord& rec, std::string& out) {
  std::string payload;
  put<uint8_t>(payload, static_cast<uint8_t>(rec.type));
  switch (rec.type) {
    case SpoolRecord::Type::kEvent: {
      const FeedbackEvent& e = rec.event;
      put<uint64_t>(payload, e.sequence);
      put<uint8_t>(payload, static_cast<uint8_t>(e.kind));
      put<uint32_t>(payload, e.campaign);
      put<uint64_t>(payload, e.recipient);
      put<uint8_t>(payload, e.attempt);
      put<uint64_t>(payload, e.at_ms);
      putText<uint8_t>(payload, e.status);
      putText<uint8_t>(payload, e.source);
      putText<uint16_t>(payload, std::string_view(e.detail).substr(0, proto::kMaxFeedbackDetailBytes));
      break;
    }
    case SpoolRecord::Type::kAcknowledged:
      put<uint32_t>(payload, static_cast<uint32_t>(rec.acknowledged.size()));
      for (uint64_t s : rec.acknowledged) put<uint64_t>(payload, s);
      break;
    case SpoolRecord::Type::kRecordedToken:
      put<uint8_t>(payload, static_cast<uint8_t>(rec.kind));
      [[fallthrough]];
    case SpoolRecord::Type::kUsedToken:
      put<uint32_t>(payload, rec.token.campaign);
      put<uint64_t>(payload, rec.token.recipient);
      put<uint8_t>(payload, rec.token.attempt);
      put<uint64_t>(payload, rec.at_ms);
      break;
    case SpoolRecord::Type::kNextSequence: put<uint64_t>(payload, rec.next_sequence); break;
  }
  put<uint32_t>(out, static_cast<uint32_t>(payload.size()));
  put<uint64_t>(out, XXH3_64bits(payload.data(), payload.size()));
  out.append(payload);
}

SpoolReadResult readSpoolRecords(std::string_view file, const std::function<void(SpoolRecord&&)>& each) {
  SpoolReadResult result;
  if (file.empty()) return result;
  if (file.substr(0, kSpoolMagic.size()) != kSpoolMagic) {
    result.damaged = true;
    result.why = "not a feedback spool (no " + std::string(kSpoolMagic) + " magic)";
    return result;
  }
  size_t at = kSpoolMagic.size();
  result.good_bytes = at;
  constexpr size_t kHeader = 4 + 8;
  while (at < file.size()) {
    Reader h(file.substr(at, std::min(kHeader, file.size() - at)));
    uint32_t length = h.get<uint32_t>();
    uint64_t hash = h.get<uint64_t>();
    std::string why;
    if (!h.ok()) {
      why = "torn record header";
    } else if (length > kMaxSpoolPayload || length > file.size() - at - kHeader) {
      why = "record length past the end";
    }
    std::string_view payload = why.empty() ? file.substr(at + kHeader, length) : std::string_view();
    std::optional<SpoolRecord> rec;
    if (why.empty() && XXH3_64bits(payload.data(), payload.size()) != hash) why = "record checksum mismatch";
    if (why.empty() && !(rec = decodePayload(payload))) why = "unreadable record";
    if (!why.empty()) {
      result.damaged = true;
      result.why = why + " at offset " + std::to_string(at);
      return result;
    }
    each(std::move(*rec));
    at += kHeader + length;
    result.good_bytes = at;
  }
  return result;
}

}  // namespace lbmail
