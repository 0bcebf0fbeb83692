// The frames of the initiator–gateway link protocol, version 3 (byte layout: docs/protocol.md).
// Version 3 carries them inside TLS 1.3 and retired version 2's AUTH_CHALLENGE and
// AUTH_RESPONSE; version 2 added HELLO's instance, SEND's message_key and HANDOVER.
// Decoded frames hold views into the received bytes: use or copy them inside the callback.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace lbmail::proto {

constexpr uint8_t kProtocolVersion = 3;
constexpr uint8_t kMagic0 = 'L';
constexpr uint8_t kMagic1 = 'B';
constexpr size_t kHeaderSize = 10;               // magic(2) version(1) type(1) flags(2) length(4)
constexpr uint32_t kDefaultMaxPayload = 1 << 20;  // 1 MiB
constexpr size_t kMediaHashSize = 16;  // XXH3-128

// Per-field limits a decoder enforces (the frame size bounds everything else).
constexpr size_t kMaxNameBytes = 255;       // node names, field names
constexpr size_t kMaxAddressBytes = 320;    // RFC 5321 path limit is 256; a little slack for <>
constexpr size_t kMaxReplyBytes = 512;      // RESULT reply text
constexpr size_t kMaxTextBytes = 1024;      // REJECT and GOODBYE texts
constexpr size_t kMaxFieldValueBytes = 64 * 1024;
constexpr size_t kMaxMergeFields = 1024;
constexpr size_t kMaxMaterialParts = 64;
constexpr size_t kMaxMaterialMedia = 4096;
constexpr size_t kMaxEnhancedCodeBytes = 16;
constexpr size_t kMaxTlsVersionBytes = 32;  // RESULT's tls_version: OpenSSL's "TLSv1.3"
// Before the HELLOs are exchanged only HELLO (under 300 bytes) and GOODBYE are accepted, each
// within this payload size.
constexpr uint32_t kMaxHandshakePayload = 2048;

enum class FrameType : uint8_t {
  kHello = 1,
  kCatalog = 4,
  kMaterial = 5,
  kSend = 6,
  kAccept = 7,
  kReject = 8,
  kResult = 9,
  kCredit = 10,
  kLoad = 11,
  kPing = 12,
  kPong = 13,
  kDrain = 14,
  kGoodbye = 15,
  kHandover = 16,
  kSites = 17,
  kFeedback = 18,
  kFeedbackAck = 19,
  kProbe = 20,
  kProbeReply = 21,
};
constexpr uint8_t kMaxFrameType = 21;
// Version 2's HMAC handshake frames: the numbers stay taken, and any use is refused.
constexpr uint8_t kRetiredAuthChallenge = 2;
constexpr uint8_t kRetiredAuthResponse = 3;
const char* frameTypeName(FrameType t);

enum class Role : uint8_t { kInitiator = 1, kGateway = 2 };
// The side that may send frames of type t; nullopt: either (HELLO, PING, PONG, GOODBYE).
std::optional<Role> senderOf(FrameType t);

// HELLO capability bits: what the sender can read beyond the version's base layout. A peer
// sends an optional field only when the other side's HELLO announced it, since a reader refuses
// bytes after the last field it knows.
constexpr uint64_t kCapabilityResultTls = 1 << 0;  // reads RESULT's TLS fields (issue 19)
// Reads RESULT's reply_class and site (after the TLS fields, so only with kCapabilityResultTls
// too), REJECT's site and reason kSiteUnavailable, and SITES frames (issue 20).
constexpr uint64_t kCapabilityShaping = 1 << 1;
constexpr size_t kMaxSiteBytes = 255;   // a site name (a provider, or MX host names joined)
// 3000 entries of the longest names stay under the 1 MiB frame limit (about 806 KB).
constexpr size_t kMaxSitesPerFrame = 3000;
// Reads FEEDBACK frames and answers them with FEEDBACK_ACK (issue 21): a gateway sends its
// feedback events (bounces received as mail, complaints, unsubscribes) only to such initiators.
constexpr uint64_t kCapabilityFeedback = 1 << 2;
constexpr size_t kMaxFeedbackDetailBytes = 512;  // FEEDBACK's detail (a diagnostic, a feedback type)
constexpr size_t kMaxFeedbackSourceBytes = 32;   // FEEDBACK's source ("dsn", "arf", "text", "one-click")
// Load reports for the learning selection policies (issue 22). From an initiator: it reads
// RESULT's load field (queue, after the shaping fields, so only with kCapabilityResultTls and
// kCapabilityShaping too). From a gateway: it answers PROBE with PROBE_REPLY; an initiator
// sends PROBE only to such a gateway (an older one refuses the frame type).
constexpr uint64_t kCapabilityLoad = 1 << 3;

enum class Outcome : uint8_t { kDelivered = 1, kDeferred = 2, kBounced = 3, kFailed = 4 };
const char* outcomeName(Outcome o);

enum class RejectReason : uint8_t {
  kUnknownMaterial = 1,
  kBadAddress = 2,
  kMissingField = 3,
  kOverCapacity = 4,
  kDraining = 5,
  kExpired = 6,  // its deadline passed, or its link closed, before MAIL FROM: never sent
  kMissingMedia = 7,
  kBadContent = 8,  // the message cannot be built from these fields on any gateway (a line break in a header field)
  // This gateway may not send to the recipient's site now (the site suspended it after a block
  // reply, or today's warm-up cap is reached): never sent; another gateway may take it. Sent
  // only to initiators with kCapabilityShaping (older ones get kOverCapacity).
  kSiteUnavailable = 9,
  kOther = 255,
};

enum class GoodbyeReason : uint8_t { kShutdown = 1, kDrained = 2, kProtocolError = 3, kAuthFailed = 4 };

using MediaHash = std::array<uint8_t, kMediaHashSize>;

struct HelloFrame {
  uint32_t version = kProtocolVersion;
  std::string_view node_name;
  Role role = Role::kInitiator;
  uint64_t capabilities = 0;
  // The initiator's campaign instance (a random number kept with the campaign): a gateway keeps
  // the answers of an instance's links and hands them over when it connects again. 0: none.
  uint64_t instance = 0;
};

struct CatalogFrame {
  std::vector<MediaHash> hashes;
};

enum class MaterialPartKind : uint8_t {
  kSubject = 1,
  kText = 2,
  kHtml = 3,
  kFrom = 4,
  kReplyTo = 5,
  kListUnsubscribe = 6,
  kFields = 7,  // the merge-field names the templates may use, separated by commas
  // Header values fixed per material, so a gateway can DKIM-sign them. Sent only when set: a
  // gateway older than these kinds refuses them as a protocol error.
  kListId = 8,      // "Name <id.domain>" (RFC 2919)
  kFeedbackId = 9,  // Gmail's feedback loop "a:b:c:SenderId"
};
// Kinds past it are a protocol error: silently dropping a header the sender asked for (and
// wants signed) would be worse than refusing the frame.
constexpr uint8_t kMaxMaterialPartKind = 9;

struct MaterialPart {
  MaterialPartKind kind = MaterialPartKind::kText;
  std::string_view content;
};

enum class MediaDisposition : uint8_t { kAttachment = 1, kInline = 2 };

struct MediaRef {
  MediaHash hash{};
  MediaDisposition disposition = MediaDisposition::kAttachment;
  std::string_view name;  // file name for an attachment, Content-ID for an inline image
};

struct MaterialFrame {
  uint64_t material_id = 0;
  std::vector<MaterialPart> parts;
  std::vector<MediaRef> media;
};

struct MergeField {
  std::string_view name;
  std::string_view value;
};

// The merge fields of a SEND: the caller's array when encoding, or the validated encoded bytes
// of a received frame, walked on demand so that decoding allocates nothing.
class MergeFields {
 public:
  MergeFields() = default;
  MergeFields(std::span<const MergeField> items) : items_(items), count_(items.size()) {}
  static MergeFields encoded(std::span<const uint8_t> raw, size_t count) {
    MergeFields f;
    f.raw_ = raw;
    f.count_ = count;
    return f;
  }

  size_t size() const { return count_; }
  bool isEncoded() const { return items_.empty() && count_ > 0; }
  std::span<const MergeField> items() const { return items_; }
  std::span<const uint8_t> raw() const { return raw_; }

  template <typename Fn>
  void forEach(Fn&& fn) const;

 private:
  std::span<const MergeField> items_;
  std::span<const uint8_t> raw_;
  size_t count_ = 0;
};

struct SendFrame {
  uint64_t request_id = 0;
  std::string_view sender;
  std::string_view recipient;
  uint64_t material_id = 0;
  MergeFields fields;
  uint32_t deadline_ms = 0;  // time left to start (MAIL FROM), from when the gateway receives it; 0: none
  // What the Message-ID and X-Lbmail-Id derive from: stable for a recipient across attempts,
  // while request_id names one attempt. 0: the request id.
  uint64_t message_key = 0;
};

struct AcceptFrame {
  uint64_t request_id = 0;
};

struct RejectFrame {
  uint64_t request_id = 0;
  RejectReason reason = RejectReason::kOther;
  std::string_view text;
  // The recipient domain's site, when the gateway knows it. On the wire only where has_site
  // (an initiator with kCapabilityShaping).
  bool has_site = false;
  std::string_view site;
};

struct Timings {
  uint64_t queue_us = 0;
  uint64_t dns_us = 0;
  uint64_t connect_us = 0;  // TCP connect RTT to the MX
  uint64_t smtp_us = 0;
  uint64_t total_us = 0;
};

struct ResultFrame {
  uint64_t request_id = 0;
  Outcome outcome = Outcome::kDelivered;
  uint16_t smtp_code = 0;
  std::string_view enhanced_code;  // "2.0.0"
  std::string_view reply;          // at most kMaxReplyBytes
  std::string_view mx_host;
  Timings timings;
  // How the SMTP connection that carried the attempt was protected. Present on the wire only
  // where has_tls: a gateway sends them to an initiator whose HELLO has kCapabilityResultTls,
  // and an older gateway's RESULT ends after the timings (has_tls false when decoded).
  bool has_tls = false;
  std::string_view tls_version;  // "TLSv1.3", "TLSv1.2"; "" when the session was plain
  bool tls_verified = false;     // the receiver's certificate checked out (PKIX or DANE)
  bool tls_dane = false;         // verified through the MX host's TLSA records
  uint8_t tls_policy = 0;        // delivery::TlsPolicy's numbering; newer values kept as they are
  // What the deciding reply says (shaping::ReplyClass's numbering; newer values kept as they
  // are) and the recipient domain's site. On the wire only where has_shaping, after the TLS
  // fields (so has_tls too): an initiator with kCapabilityShaping.
  bool has_shaping = false;
  uint8_t reply_class = 0;
  std::string_view site;
  // The gateway's load when it answered: messages waiting there (its delivery queues and the
  // messages waiting for a signer thread, as LOAD's queue_depth). On the wire only where
  // has_load, after the shaping fields (so has_shaping too): an initiator with kCapabilityLoad.
  // The gateway's own time for the message needs no field: timings.total_us − timings.queue_us.
  bool has_load = false;
  uint32_t queue = 0;
};

struct CreditFrame {
  uint32_t grant = 0;  // more SEND frames the initiator may have outstanding
};

struct LoadFrame {
  uint64_t queue_depth = 0;
  uint64_t in_flight = 0;
  uint64_t smtp_connections = 0;
};

struct PingFrame {
  uint64_t token = 0;
};

struct PongFrame {
  uint64_t token = 0;
};

struct DrainFrame {};

// Gateway to initiator, once after the link is up (before its first CREDIT) when the initiator
// named an instance: the answers the gateway held for that instance's earlier links have been
// sent before this frame (held of them); running deliveries of those links are still under
// way, and their answers follow on this link.
struct HandoverFrame {
  uint64_t held = 0;
  uint64_t running = 0;
};

// Gateway to initiator: the sites this gateway shapes now, each replacing what the gateway said
// of it before; a site absent from the frame is not shaped (full = true: the frame lists every
// shaped site). Sent when a site's state changes and every report_interval while one is shaped.
struct SiteStatus {
  std::string_view site;
  uint32_t suspended_ms = 0;     // time left of a suspension; 0: not suspended
  uint32_t rate_millis = 0;      // messages per second allowed × 1000; 0: not throttled
  uint32_t queued = 0;           // messages queued at the gateway for the site
  uint32_t warmup_left = kNoWarmupCap;  // messages today's warm-up cap still allows
  static constexpr uint32_t kNoWarmupCap = 0xFFFFFFFF;
};

struct SitesFrame {
  std::vector<SiteStatus> sites;  // at most kMaxSitesPerFrame
};

// What a FEEDBACK frame reports (the numbering is the wire's; newer values are refused).
enum class FeedbackKind : uint8_t {
  kHardBounce = 1,   // a DSN or bounce text with a permanent failure (5.x.x) for the recipient
  kSoftBounce = 2,   // a delayed or transient failure (4.x.x) reported by mail
  kComplaint = 3,    // an ARF feedback report (RFC 5965) naming the recipient's message
  kUnsubscribe = 4,  // a one-click (RFC 8058) or confirmed unsubscribe through a signed URL
};
constexpr uint8_t kMaxFeedbackKind = 4;
const char* feedbackKindName(FeedbackKind k);

// Gateway to initiator (only with kCapabilityFeedback): one event the gateway received and
// verified (its token's HMAC checked). The recipient is named by the token's fields, never by
// an address from the report. The gateway keeps the event in its spool until an initiator
// acknowledges its sequence number, and sends it again on the next link otherwise, so an
// initiator may see an event twice: applying one is idempotent.
struct FeedbackFrame {
  uint64_t sequence = 0;  // the gateway's spool number, increasing
  FeedbackKind kind = FeedbackKind::kHardBounce;
  uint32_t campaign = 0;   // the token's campaign number (the initiator's campaigns table)
  uint64_t recipient = 0;  // the token's recipient id
  uint8_t attempt = 0;     // the token's attempt (0 for unsubscribe links)
  uint64_t at_ms = 0;      // Unix ms when the gateway received it
  std::string_view status;  // RFC 3463 code ("5.1.1"); may be empty (complaints, unsubscribes)
  std::string_view source;  // "dsn", "arf", "text", "one-click", "unsubscribe-page"
  std::string_view detail;  // the diagnostic, or the ARF Feedback-Type; at most kMaxFeedbackDetailBytes
};

// Initiator to gateway: every FEEDBACK up to sequence is written to the recipient database and
// may leave the gateway's spool.
struct FeedbackAckFrame {
  uint64_t sequence = 0;
};

// Initiator to gateway (only to a gateway with kCapabilityLoad): how loaded are you now? Asked
// for the prequal policy (Wydrowski et al., NSDI 2024), answered at once with PROBE_REPLY.
struct ProbeFrame {
  uint64_t token = 0;  // echoed in the reply
};

// Gateway to initiator: its answer to a PROBE.
struct ProbeReplyFrame {
  uint64_t token = 0;
  uint32_t requests_in_flight = 0;  // SENDs taken from every link and not yet answered
  uint32_t latency_us = 0;          // a moving average (EWMA) of its recent answers' total_us
};

struct GoodbyeFrame {
  GoodbyeReason reason = GoodbyeReason::kShutdown;
  std::string_view text;
};

using Frame = std::variant<HelloFrame, CatalogFrame, MaterialFrame, SendFrame,
                           AcceptFrame, RejectFrame, ResultFrame, CreditFrame, LoadFrame, PingFrame, PongFrame,
                           DrainFrame, GoodbyeFrame, HandoverFrame, SitesFrame, FeedbackFrame, FeedbackAckFrame,
                           ProbeFrame, ProbeReplyFrame>;

FrameType frameType(const Frame& f);

}  // namespace lbmail::proto

#include "lbmail/proto/payload_codec.h"

namespace lbmail::proto {

template <typename Fn>
void MergeFields::forEach(Fn&& fn) const {
  if (!isEncoded()) {
    for (const MergeField& f : items_) fn(f);
    return;
  }
  // Validated when the frame was decoded, so the reads here cannot fail.
  PayloadReader r(raw_);
  for (size_t i = 0; i < count_; ++i) {
    MergeField f;
    f.name = r.bytes(kMaxNameBytes);
    f.value = r.bytes(kMaxFieldValueBytes);
    fn(f);
  }
}

}  // namespace lbmail::proto
