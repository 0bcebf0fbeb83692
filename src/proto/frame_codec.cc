// The byte layout of every link frame, written once per frame type as a layout() over an
// abstract writer (frame_layouts.h: sizing and writing share it), and read back by read().
#include "lbmail/proto/frame_codec.h"

#include <algorithm>
#include <iterator>
#include <type_traits>
#include <variant>

#include "frame_layouts.h"

namespace lbmail::proto {
namespace {

using layouts::kTlsDane;
using layouts::kTlsVerified;
using layouts::layout;

constexpr uint64_t kU32Max = 0xffffffffu;

// ---- Readers: the same fields back, with every bound checked ----

template <size_t N>
void readFixed(PayloadReader& r, std::array<uint8_t, N>& out) {
  std::span<const uint8_t> b = r.fixed(N);
  if (r.ok()) std::copy(b.begin(), b.end(), out.begin());
}

template <typename E>
E readEnum(PayloadReader& r, uint8_t min, uint8_t max, const char* what) {
  uint8_t v = r.u8();
  if (r.ok() && (v < min || v > max)) r.fail(what);
  return static_cast<E>(v);
}

void read(PayloadReader& r, HelloFrame& f) {
  f.version = static_cast<uint32_t>(r.bounded(kU32Max, "version out of range"));
  f.node_name = r.bytes(kMaxNameBytes);
  f.role = readEnum<Role>(r, 1, 2, "unknown role");
  f.capabilities = r.varint();
  f.instance = r.varint();
}

void read(PayloadReader& r, CatalogFrame& f) {
  uint64_t n = r.varint();
  // Check the count against the bytes present before reserving anything.
  if (r.ok() && n > r.remaining() / kMediaHashSize) r.fail("catalog count larger than the frame");
  if (!r.ok()) return;
  f.hashes.resize(static_cast<size_t>(n));
  for (MediaHash& h : f.hashes) readFixed(r, h);
}

void read(PayloadReader& r, MaterialFrame& f) {
  f.material_id = r.varint();
  uint64_t parts = r.bounded(kMaxMaterialParts, "too many material parts");
  if (r.ok() && parts > r.remaining() / 2) r.fail("part count larger than the frame");  // each part >= 2 bytes
  for (uint64_t i = 0; r.ok() && i < parts; ++i) {
    MaterialPart p;
    p.kind = readEnum<MaterialPartKind>(r, 1, kMaxMaterialPartKind, "unknown material part");
    p.content = r.bytes(kDefaultMaxPayload);
    f.parts.push_back(p);
  }
  uint64_t media = r.bounded(kMaxMaterialMedia, "too many media references");
  if (r.ok() && media > r.remaining() / (kMediaHashSize + 2)) r.fail("media count larger than the frame");
  for (uint64_t i = 0; r.ok() && i < media; ++i) {
    MediaRef m;
    readFixed(r, m.hash);
    m.disposition = readEnum<MediaDisposition>(r, 1, 2, "unknown media disposition");
    m.name = r.bytes(kMaxNameBytes);
    f.media.push_back(m);
  }
}

void read(PayloadReader& r, SendFrame& f) {
  f.request_id = r.varint();
  f.sender = r.bytes(kMaxAddressBytes);
  f.recipient = r.bytes(kMaxAddressBytes);
  f.material_id = r.varint();
  uint64_t count = r.bounded(kMaxMergeFields, "too many merge fields");
  // Walk the fields once to validate them; keep only their span for lazy iteration.
  size_t start = r.remaining();
  std::span<const uint8_t> rest = r.fixed(0);
  for (uint64_t i = 0; r.ok() && i < count; ++i) {
    r.bytes(kMaxNameBytes);
    r.bytes(kMaxFieldValueBytes);
  }
  if (r.ok()) {
    f.fields = MergeFields::encoded(std::span<const uint8_t>(rest.data(), start - r.remaining()),
                                    static_cast<size_t>(count));
  }
  f.deadline_ms = static_cast<uint32_t>(r.bounded(kU32Max, "deadline out of range"));
  f.message_key = r.varint();
}

void read(PayloadReader& r, AcceptFrame& f) { f.request_id = r.varint(); }

void read(PayloadReader& r, RejectFrame& f) {
  f.request_id = r.varint();
  f.reason = static_cast<RejectReason>(r.u8());
  f.text = r.bytes(kMaxTextBytes);
  // The site is optional: a gateway before issue 20 ends the frame here.
  if (!r.ok() || r.remaining() == 0) return;
  f.has_site = true;
  f.site = r.bytes(kMaxSiteBytes);
}

void read(PayloadReader& r, ResultFrame& f) {
  f.request_id = r.varint();
  f.outcome = readEnum<Outcome>(r, 1, 4, "unknown outcome");
  f.smtp_code = static_cast<uint16_t>(r.bounded(999, "SMTP code out of range"));
  f.enhanced_code = r.bytes(kMaxEnhancedCodeBytes);
  f.reply = r.bytes(kMaxReplyBytes);
  f.mx_host = r.bytes(kMaxNameBytes);
  f.timings.queue_us = r.varint();
  f.timings.dns_us = r.varint();
  f.timings.connect_us = r.varint();
  f.timings.smtp_us = r.varint();
  f.timings.total_us = r.varint();
  // The TLS fields are optional: an older gateway's RESULT ends here.
  if (!r.ok() || r.remaining() == 0) return;
  f.has_tls = true;
  f.tls_version = r.bytes(kMaxTlsVersionBytes);
  uint8_t flags = r.u8();
  if (r.ok() && (flags & ~(kTlsVerified | kTlsDane))) r.fail("unknown TLS flags");
  f.tls_verified = flags & kTlsVerified;
  f.tls_dane = flags & kTlsDane;
  f.tls_policy = r.u8();
  // The shaping fields are optional too: a gateway before issue 20 ends the frame here.
  if (!r.ok() || r.remaining() == 0) return;
  f.has_shaping = true;
  f.reply_class = r.u8();
  f.site = r.bytes(kMaxSiteBytes);
  // The load field is optional too: a gateway before issue 22 ends the frame here.
  if (!r.ok() || r.remaining() == 0) return;
  f.has_load = true;
  f.queue = static_cast<uint32_t>(r.bounded(kU32Max, "queue out of range"));
}

void read(PayloadReader& r, CreditFrame& f) { f.grant = static_cast<uint32_t>(r.bounded(kU32Max, "grant out of range")); }

void read(PayloadReader& r, LoadFrame& f) {
  f.queue_depth = r.varint();
  f.in_flight = r.varint();
  f.smtp_connections = r.varint();
}

void read(PayloadReader& r, PingFrame& f) { f.token = r.varint(); }
void read(PayloadReader& r, PongFrame& f) { f.token = r.varint(); }
void read(PayloadReader&, DrainFrame&) {}

void read(PayloadReader& r, GoodbyeFrame& f) {
  f.reason = static_cast<GoodbyeReason>(r.u8());
  f.text = r.bytes(kMaxTextBytes);
}

void read(PayloadReader& r, HandoverFrame& f) {
  f.held = r.varint();
  f.running = r.varint();
}
void read(PayloadReader& r, SitesFrame& f) {
  uint64_t n = r.bounded(kMaxSitesPerFrame, "too many sites");
  // Each entry is at least 5 bytes: check the count against the frame before reserving.
  if (r.ok() && n > r.remaining() / 5) r.fail("site count larger than the frame");
  if (!r.ok()) return;
  f.sites.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; r.ok() && i < n; ++i) {
    SiteStatus s;
    s.site = r.bytes(kMaxSiteBytes);
    s.suspended_ms = static_cast<uint32_t>(r.bounded(kU32Max, "suspension out of range"));
    s.rate_millis = static_cast<uint32_t>(r.bounded(kU32Max, "rate out of range"));
    s.queued = static_cast<uint32_t>(r.bounded(kU32Max, "queue out of range"));
    s.warmup_left = static_cast<uint32_t>(r.bounded(kU32Max, "warm-up out of range"));
    f.sites.push_back(s);
  }
}

void read(PayloadReader& r, FeedbackFrame& f) {
  f.sequence = r.varint();
  f.kind = readEnum<FeedbackKind>(r, 1, kMaxFeedbackKind, "unknown feedback kind");
  f.campaign = static_cast<uint32_t>(r.bounded(kU32Max, "campaign out of range"));
  f.recipient = r.varint();
  f.attempt = r.u8();
  f.at_ms = r.varint();
  f.status = r.bytes(kMaxEnhancedCodeBytes);
  f.source = r.bytes(kMaxFeedbackSourceBytes);
  f.detail = r.bytes(kMaxFeedbackDetailBytes);
}

void read(PayloadReader& r, FeedbackAckFrame& f) { f.sequence = r.varint(); }

void read(PayloadReader& r, ProbeFrame& f) { f.token = r.varint(); }

void read(PayloadReader& r, ProbeReplyFrame& f) {
  f.token = r.varint();
  f.requests_in_flight = static_cast<uint32_t>(r.bounded(kU32Max, "requests in flight out of range"));
  f.latency_us = static_cast<uint32_t>(r.bounded(kU32Max, "latency out of range"));
}

// A frame's type number is its position in the Frame variant, plus one.
template <typename F, typename... Ts>
constexpr size_t variantIndex(std::variant<Ts...>*) {
  constexpr bool kMatches[] = {std::is_same_v<F, Ts>...};
  for (size_t i = 0; i < sizeof...(Ts); ++i) {
    if (kMatches[i]) return i;
  }
  return sizeof...(Ts);
}

// The type of each alternative of Frame, in the variant's order (2 and 3 are retired).
constexpr FrameType kVariantTypes[] = {
    FrameType::kHello,  FrameType::kCatalog, FrameType::kMaterial, FrameType::kSend,  FrameType::kAccept,
    FrameType::kReject, FrameType::kResult,  FrameType::kCredit,   FrameType::kLoad,  FrameType::kPing,
    FrameType::kPong,   FrameType::kDrain,   FrameType::kGoodbye,  FrameType::kHandover,
    FrameType::kSites,  FrameType::kFeedback, FrameType::kFeedbackAck, FrameType::kProbe, FrameType::kProbeReply};
static_assert(std::size(kVariantTypes) == std::variant_size_v<Frame>);

template <typename F>
constexpr FrameType typeOf() {
  return kVariantTypes[variantIndex<F>(static_cast<Frame*>(nullptr))];
}

template <typename F>
Expected<Frame, const char*> decodeAs(std::span<const uint8_t> payload) {
  PayloadReader r(payload);
  F frame;
  read(r, frame);
  if (!r.finish()) return unexpected(r.error());
  return Frame(std::move(frame));
}

void writeHeader(uint8_t* p, FrameType type, uint32_t length) {
  p[0] = kMagic0;
  p[1] = kMagic1;
  p[2] = kProtocolVersion;
  p[3] = static_cast<uint8_t>(type);
  p[4] = 0;  // flags: none defined
  p[5] = 0;
  for (int i = 0; i < 4; ++i) p[6 + i] = static_cast<uint8_t>(length >> (8 * i));
}

}  // namespace

FrameType frameType(const Frame& f) { return kVariantTypes[f.index()]; }

SplitResult splitFrame(std::span<const uint8_t> input, uint32_t max_payload) {
  SplitResult out;
  if (input.size() < kHeaderSize) {
    // Reject a wrong magic as soon as its bytes arrive rather than after a whole header.
    if ((input.size() >= 1 && input[0] != kMagic0) || (input.size() >= 2 && input[1] != kMagic1)) {
      out.status = SplitStatus::kError;
      out.error = "bad magic";
    }
    return out;
  }
  out.status = SplitStatus::kError;
  if (input[0] != kMagic0 || input[1] != kMagic1) return out.error = "bad magic", out;
  out.header.version = input[2];
  if (out.header.version != kProtocolVersion) return out.error = "unsupported protocol version", out;
  if (input[3] == 0 || input[3] > kMaxFrameType) return out.error = "unknown frame type", out;
  if (input[3] == kRetiredAuthChallenge || input[3] == kRetiredAuthResponse) {
    return out.error = "retired frame type (version 2 authentication, now TLS)", out;
  }
  out.header.type = static_cast<FrameType>(input[3]);
  out.header.flags = static_cast<uint16_t>(input[4] | input[5] << 8);
  if (out.header.flags != 0) return out.error = "unknown flags", out;
  out.header.length = static_cast<uint32_t>(input[6]) | static_cast<uint32_t>(input[7]) << 8 |
                      static_cast<uint32_t>(input[8]) << 16 | static_cast<uint32_t>(input[9]) << 24;
  if (out.header.length > max_payload) return out.error = "frame larger than the maximum", out;
  if (input.size() - kHeaderSize < out.header.length) {
    out.status = SplitStatus::kNeedMore;
    return out;
  }
  out.status = SplitStatus::kFrame;
  out.consumed = kHeaderSize + out.header.length;
  out.payload = input.subspan(kHeaderSize, out.header.length);
  return out;
}

Expected<Frame, const char*> decodePayload(FrameType type, std::span<const uint8_t> payload) {
  switch (type) {
    case FrameType::kHello: return decodeAs<HelloFrame>(payload);
    case FrameType::kCatalog: return decodeAs<CatalogFrame>(payload);
    case FrameType::kMaterial: return decodeAs<MaterialFrame>(payload);
    case FrameType::kSend: return decodeAs<SendFrame>(payload);
    case FrameType::kAccept: return decodeAs<AcceptFrame>(payload);
    case FrameType::kReject: return decodeAs<RejectFrame>(payload);
    case FrameType::kResult: return decodeAs<ResultFrame>(payload);
    case FrameType::kCredit: return decodeAs<CreditFrame>(payload);
    case FrameType::kLoad: return decodeAs<LoadFrame>(payload);
    case FrameType::kPing: return decodeAs<PingFrame>(payload);
    case FrameType::kPong: return decodeAs<PongFrame>(payload);
    case FrameType::kDrain: return decodeAs<DrainFrame>(payload);
    case FrameType::kGoodbye: return decodeAs<GoodbyeFrame>(payload);
    case FrameType::kHandover: return decodeAs<HandoverFrame>(payload);
    case FrameType::kSites: return decodeAs<SitesFrame>(payload);
    case FrameType::kFeedback: return decodeAs<FeedbackFrame>(payload);
    case FrameType::kFeedbackAck: return decodeAs<FeedbackAckFrame>(payload);
    case FrameType::kProbe: return decodeAs<ProbeFrame>(payload);
    case FrameType::kProbeReply: return decodeAs<ProbeReplyFrame>(payload);
  }
  return unexpected("unknown frame type");
}

template <typename F>
size_t encodedSize(const F& frame) {
  SizeCounter counter;
  layout(counter, frame);
  return kHeaderSize + counter.size();
}

template <typename F>
void encodeFrame(BufferList& out, const F& frame) {
  SizeCounter counter;
  layout(counter, frame);
  uint8_t* p = out.append(kHeaderSize + counter.size());
  writeHeader(p, typeOf<F>(), static_cast<uint32_t>(counter.size()));
  PayloadWriter w(p + kHeaderSize);
  layout(w, frame);
}

const char* requestProblem(const SendFrame& frame, uint32_t max_payload) {
  if (frame.sender.size() > kMaxAddressBytes) return "sender longer than 320 bytes";
  if (frame.recipient.size() > kMaxAddressBytes) return "recipient longer than 320 bytes";
  if (frame.fields.size() > kMaxMergeFields) return "more than 1024 merge fields";
  const char* problem = nullptr;
  frame.fields.forEach([&](const MergeField& f) {
    if (f.name.size() > kMaxNameBytes) problem = "merge field name longer than 255 bytes";
    if (f.value.size() > kMaxFieldValueBytes) problem = "merge field value longer than 64 KiB";
  });
  if (problem) return problem;
  if (encodedSize(frame) - kHeaderSize > max_payload) return "request larger than the maximum frame";
  return nullptr;
}

void encodeFrame(BufferList& out, const Frame& frame) {
  std::visit([&](const auto& f) { encodeFrame(out, f); }, frame);
}

// One instantiation per frame type.
#define LBMAIL_FRAME_CODEC(F)                               \
  template void encodeFrame<F>(BufferList&, const F&);      \
  template size_t encodedSize<F>(const F&);
LBMAIL_FRAME_CODEC(HelloFrame)
LBMAIL_FRAME_CODEC(CatalogFrame)
LBMAIL_FRAME_CODEC(MaterialFrame)
LBMAIL_FRAME_CODEC(SendFrame)
LBMAIL_FRAME_CODEC(AcceptFrame)
LBMAIL_FRAME_CODEC(RejectFrame)
LBMAIL_FRAME_CODEC(ResultFrame)
LBMAIL_FRAME_CODEC(CreditFrame)
LBMAIL_FRAME_CODEC(LoadFrame)
LBMAIL_FRAME_CODEC(PingFrame)
LBMAIL_FRAME_CODEC(PongFrame)
LBMAIL_FRAME_CODEC(DrainFrame)
LBMAIL_FRAME_CODEC(GoodbyeFrame)
LBMAIL_FRAME_CODEC(HandoverFrame)
LBMAIL_FRAME_CODEC(SitesFrame)
LBMAIL_FRAME_CODEC(FeedbackFrame)
LBMAIL_FRAME_CODEC(FeedbackAckFrame)
LBMAIL_FRAME_CODEC(ProbeFrame)
LBMAIL_FRAME_CODEC(ProbeReplyFrame)
#undef LBMAIL_FRAME_CODEC

}  // namespace lbmail::proto
