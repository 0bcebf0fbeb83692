// The order of fields on the wire of every link frame (docs/protocol.md): one layout() per
// frame type over an abstract writer, so that sizing (SizeCounter) and writing (PayloadWriter)
// share it. Private to frame_codec.cc, whose readers take the same fields back.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "lbmail/proto/frames.h"

namespace lbmail::proto::layouts {

// RESULT's tls_flags bits; others are refused, so that one encoding means one frame.
constexpr uint8_t kTlsVerified = 1;
constexpr uint8_t kTlsDane = 2;

// Texts meant for people are cut to their limit when encoded, so a long SMTP reply or reason
// can never make a frame the peer must refuse. (Addresses are never cut: sendRequest refuses.)
inline std::string_view cut(std::string_view s, size_t max) { return s.substr(0, std::min(s.size(), max)); }

template <typename W>
void layout(W& w, const HelloFrame& f) {
  w.varint(f.version);
  w.bytes(cut(f.node_name, kMaxNameBytes));
  w.u8(static_cast<uint8_t>(f.role));
  w.varint(f.capabilities);
  w.varint(f.instance);
}

template <typename W>
void layout(W& w, const CatalogFrame& f) {
  w.varint(f.hashes.size());
  for (const MediaHash& h : f.hashes) w.fixed(h);
}

template <typename W>
void layout(W& w, const MaterialFrame& f) {
  w.varint(f.material_id);
  w.varint(f.parts.size());
  for (const MaterialPart& p : f.parts) {
    w.u8(static_cast<uint8_t>(p.kind));
    w.bytes(p.content);
  }
  w.varint(f.media.size());
  for (const MediaRef& m : f.media) {
    w.fixed(m.hash);
    w.u8(static_cast<uint8_t>(m.disposition));
    w.bytes(m.name);
  }
}

template <typename W>
void layout(W& w, const SendFrame& f) {
  w.varint(f.request_id);
  w.bytes(f.sender);
  w.bytes(f.recipient);
  w.varint(f.material_id);
  w.varint(f.fields.size());
  f.fields.forEach([&](const MergeField& m) {
    w.bytes(m.name);
    w.bytes(m.value);
  });
  w.varint(f.deadline_ms);
  w.varint(f.message_key);
}

template <typename W>
void layout(W& w, const AcceptFrame& f) {
  w.varint(f.request_id);
}

template <typename W>
void layout(W& w, const RejectFrame& f) {
  w.varint(f.request_id);
  w.u8(static_cast<uint8_t>(f.reason));
  w.bytes(cut(f.text, kMaxTextBytes));
  if (f.has_site) w.bytes(cut(f.site, kMaxSiteBytes));
}

template <typename W>
void layout(W& w, const ResultFrame& f) {
  w.varint(f.request_id);
  w.u8(static_cast<uint8_t>(f.outcome));
  w.varint(f.smtp_code);
  w.bytes(cut(f.enhanced_code, kMaxEnhancedCodeBytes));
  w.bytes(cut(f.reply, kMaxReplyBytes));
  w.bytes(cut(f.mx_host, kMaxNameBytes));
  w.varint(f.timings.queue_us);
  w.varint(f.timings.dns_us);
  w.varint(f.timings.connect_us);
  w.varint(f.timings.smtp_us);
  w.varint(f.timings.total_us);
  if (!f.has_tls) return;
  w.bytes(cut(f.tls_version, kMaxTlsVersionBytes));
  w.u8(static_cast<uint8_t>((f.tls_verified ? kTlsVerified : 0) | (f.tls_dane ? kTlsDane : 0)));
  w.u8(f.tls_policy);
  if (!f.has_shaping) return;
  w.u8(f.reply_class);
  w.bytes(cut(f.site, kMaxSiteBytes));
  if (!f.has_load) return;
  w.varint(f.queue);
}

template <typename W>
void layout(W& w, const CreditFrame& f) {
  w.varint(f.grant);
}

template <typename W>
void layout(W& w, const LoadFrame& f) {
  w.varint(f.queue_depth);
  w.varint(f.in_flight);
  w.varint(f.smtp_connections);
}

template <typename W>
void layout(W& w, const PingFrame& f) {
  w.varint(f.token);
}

template <typename W>
void layout(W& w, const PongFrame& f) {
  w.varint(f.token);
}

template <typename W>
void layout(W&, const DrainFrame&) {}

template <typename W>
void layout(W& w, const GoodbyeFrame& f) {
  w.u8(static_cast<uint8_t>(f.reason));
  w.bytes(cut(f.text, kMaxTextBytes));
}

template <typename W>
void layout(W& w, const HandoverFrame& f) {
  w.varint(f.held);
  w.varint(f.running);
}

template <typename W>
void layout(W& w, const SitesFrame& f) {
  size_t n = std::min(f.sites.size(), kMaxSitesPerFrame);
  w.varint(n);
  for (size_t i = 0; i < n; ++i) {
    const SiteStatus& s = f.sites[i];
    w.bytes(cut(s.site, kMaxSiteBytes));
    w.varint(s.suspended_ms);
    w.varint(s.rate_millis);
    w.varint(s.queued);
    w.varint(s.warmup_left);
  }
}

template <typename W>
void layout(W& w, const FeedbackFrame& f) {
  w.varint(f.sequence);
  w.u8(static_cast<uint8_t>(f.kind));
  w.varint(f.campaign);
  w.varint(f.recipient);
  w.u8(f.attempt);
  w.varint(f.at_ms);
  w.bytes(cut(f.status, kMaxEnhancedCodeBytes));
  w.bytes(cut(f.source, kMaxFeedbackSourceBytes));
  w.bytes(cut(f.detail, kMaxFeedbackDetailBytes));
}

template <typename W>
void layout(W& w, const FeedbackAckFrame& f) { w.varint(f.sequence); }

template <typename W>
void layout(W& w, const ProbeFrame& f) { w.varint(f.token); }

template <typename W>
void layout(W& w, const ProbeReplyFrame& f) {
  w.varint(f.token);
  w.varint(f.requests_in_flight);
  w.varint(f.latency_us);
}

}  // namespace lbmail::proto::layouts
