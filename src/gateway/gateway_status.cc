// The gateway's part of /status: capacity, links, deliveries, TLS and destinations.
#include "gateway.h"

namespace lbmail {

void Gateway::writeModeStatus(JsonWriter& w) {
  w.key("gateway").beginObject();
  w.key("capacity").value(static_cast<uint64_t>(config_.gateway.capacity));
  w.key("in_flight").value(in_flight_);
  w.key("free_capacity").value(freeCapacity());
  w.key("draining").value(draining_);
  w.key("media_files").value(static_cast<uint64_t>(media_.size()));
  w.key("media_bytes").value(media_.mappedBytes());
  w.key("accepted").value(accepted_.value());
  w.key("rejected").value(rejected_.value());
  w.key("results_dropped").value(results_dropped_.value());
  w.key("expired").value(expired_.value());
  w.key("site_unavailable").value(site_unavailable_.value());
  w.key("answers_held").value(static_cast<uint64_t>(held_.size()));
  if (signer_) signer_->writeStatus(w);
  if (feedback_) feedback_->writeStatus(w);
  w.key("links").beginArray();
  for (const auto& [link, s] : links_) {
    w.beginObject();
    w.key("peer").value(link->peerName());
    w.key("address").value(link->peerAddress().toString());
    w.key("tls").value(link->cipherName());  // the TLS 1.3 cipher suite the link negotiated
    w.key("in_flight").value(s.in_flight);
    w.key("credit").value(link->credit());
    w.key("requests").value(s.requests);
    w.key("materials").value(static_cast<uint64_t>(s.materials.size()));
    w.key("rtt_us").value(link->rttMicros());
    w.endObject();
  }
  w.endArray();
  if (engine_) {
    const delivery::DeliveryEngineStats& st = engine_->stats();
    w.key("delivery").beginObject();
    w.key("delivered").value(st.delivered);
    w.key("deferred").value(st.deferred);
    w.key("bounced").value(st.bounced);
    w.key("queued").value(st.queued);
    w.key("connections_open").value(st.connections_open);
    w.key("bytes_sent").value(st.bytes_sent);
    w.endObject();
    w.key("tls").beginObject();
    w.key("policy_refusals").value(st.tls_policy_refusals);
    w.key("handshakes").value(st.tls_handshakes);
    w.key("resumed").value(st.tls_resumed);
    w.key("handshake_failures").value(st.tls_failures);
    w.key("plain_fallbacks").value(st.tls_plain_fallbacks);
    delivery_metrics_.tls().writePolicies(w);
    w.endObject();
    if (shaping_) shaping_->writeStatus(w);
    w.key("destinations").beginArray();
    for (const delivery::DestinationStatus& d : engine_->destinations()) {
      w.beginObject();
      w.key("source").value(d.source);
      w.key("site").value(d.site);
      w.key("destination").value(d.destination.toString());
      w.key("connections").value(static_cast<uint64_t>(d.connections));
      w.key("queued").value(d.queued);
      w.key("delivered").value(d.delivered);
      w.key("backed_off").value(d.backed_off);
      w.endObject();
    }
    w.endArray();
  }
  w.endObject();
}

}  // namespace lbmail
