// One initiator–gateway link: TCP, TLS 1.3 (LinkSecurity), then framing, credit, heartbeats.
// Both ends use it; GatewayLink (initiator side) and LinkAcceptor (gateway side) own them.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "lbmail/core/buffer_list.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"
#include "lbmail/proto/frame_codec.h"
#include "lbmail/proto/link_security.h"
#include "lbmail/tls/tls_session.h"

namespace lbmail::proto {

struct LinkSettings {
  std::string node_name;
  uint64_t capabilities = 0;
  uint64_t instance = 0;  // the initiator's campaign instance, sent in its HELLO (0: none)
  uint32_t max_payload = kDefaultMaxPayload;
  Duration auth_timeout = std::chrono::seconds(5);        // TLS and HELLO must complete within this
  Duration heartbeat_interval = std::chrono::seconds(1);  // a PING this often while open
  Duration heartbeat_timeout = std::chrono::seconds(5);   // nothing received for this long: dead
  size_t max_write_queue = 64 * 1024 * 1024;              // unsent bytes beyond this: peer not reading
};

class LinkConnection {
 public:
  enum class State { kConnecting, kHandshake, kOpen, kClosing, kClosed };

  class Handler {
   public:
    virtual ~Handler() = default;
    // TLS authenticated both ways and the peer's HELLO arrived.
    virtual void onLinkUp(LinkConnection& link) = 0;
    // Every frame after the handshake except PING, PONG and CREDIT bookkeeping (CREDIT is
    // passed on too, after it was counted). Views in frame die when this returns.
    virtual void onLinkFrame(LinkConnection& link, const Frame& frame) = 0;
    // A PONG came back: the link's round trip, microseconds.
    virtual void onLinkRtt(LinkConnection& link, uint64_t rtt_us) {
      (void)link;
      (void)rtt_us;
    }
    // The last call: every handle is closed; the owner may delete the link now.
    virtual void onLinkClosed(LinkConnection& link, std::string_view reason) = 0;
  };

  LinkConnection(uv_loop_t* loop, Role role, const LinkSettings& settings, const LinkSecurity& security,
                 Handler& handler);
  LinkConnection(const LinkConnection&) = delete;
  LinkConnection& operator=(const LinkConnection&) = delete;
  ~LinkConnection();

  // Initiator side: connects, then opens the TLS handshake.
  void connect(const SocketAddress& gateway);
  // Gateway side: accepts a pending connection from the listener (the TCP socket only: nothing
  // is read and nothing large allocated until startHandshake, so that admission comes first).
  // Returns false (and closes) when the accept failed.
  bool accept(uv_stream_t* listener);
  // Gateway side, after admission: starts reading and the handshake timer.
  void startHandshake();
  // Gateway side: loop time (ms) of the accept, to find the oldest handshake.
  uint64_t acceptedAtMs() const { return accepted_at_ms_; }

  // Queues a frame on an open link (nothing before the handshake completes); everything queued
  // in one loop turn leaves in a single writev. Optional fields the peer's HELLO did not ask
  // for are left out (RESULT's TLS fields without kCapabilityResultTls, its shaping fields,
  // REJECT's site and SITES frames without kCapabilityShaping, RESULT's load field without
  // kCapabilityLoad; a PROBE to a gateway without kCapabilityLoad is not sent).
  template <typename F>
  void send(const F& frame);
  // Initiator side: a SEND within credit. False (nothing sent) when the link is not open, has
  // no credit left, or the request breaks a protocol limit (see requestProblem).
  bool sendRequest(const SendFrame& frame);
  // Gateway side: allows the initiator n more outstanding SENDs.
  void grantCredit(uint32_t n);

  // Sends GOODBYE, flushes and closes. Idempotent.
  void close(GoodbyeReason reason, std::string_view text);
  // Closes at once without a word to the peer (protocol violations, dead links).
  void abort(std::string_view reason);

  State state() const { return state_; }
  Role role() const { return role_; }
  const std::string& peerName() const { return peer_name_; }
  // The campaign instance the initiator named in its HELLO (gateway side); 0 when none.
  uint64_t peerInstance() const { return peer_instance_; }
  // The capability bits of the peer's HELLO (kCapability*).
  uint64_t peerCapabilities() const { return peer_capabilities_; }
  const SocketAddress& peerAddress() const { return peer_address_; }
  // Credit the initiator still holds (initiator side) or that the gateway granted and has not
  // yet seen used (gateway side).
  uint64_t credit() const { return credit_; }
  // Last measured PING round trip, microseconds (0 until the first PONG).
  uint64_t rttMicros() const { return rtt_us_; }
  // Bytes on the wire (TLS records included).
  uint64_t bytesSent() const { return bytes_sent_; }
  uint64_t bytesReceived() const { return bytes_received_; }
  // The negotiated TLS cipher suite ("" before the handshake).
  std::string cipherName() const;

 private:
  struct WriteRequest {
    uv_write_t req;
    // Not req->handle->data: that points at the closer once the handles close, and libuv
    // still calls back pending writes (UV_ECANCELED) then.
    LinkConnection* link;
    BufferList chunks;
  };

  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onIdle(uv_idle_t* idle);
  static void onTimer(uv_timer_t* timer);

  template <typename F>
  void queue(const F& frame);
  void startReading();
  void onCiphertext(const uint8_t* data, size_t n);
  bool refusePlaintextPeer(const uint8_t* data, size_t n);
  void onTlsUp();
  void readPlaintext();
  void processInput();
  void dispatch(const Frame& frame);
  void handleHello(const Frame& frame);
  void becomeOpen();
  void scheduleFlush();
  void flush();
  void writeWire(BufferList& bytes);
  void armTimer(Duration d);
  void closeHandles(std::string_view reason);
  void logHandshakeFailure(std::string_view event, std::string_view error);
  void closeAfterAlert(const std::string& reason);
  uint64_t nowMs() const { return uv_now(loop_); }
  // Before the HELLOs a peer may send only small handshake frames.
  uint32_t payloadLimit() const { return state_ == State::kOpen ? settings_.max_payload : kMaxHandshakePayload; }

  uv_loop_t* loop_;
  Role role_;
  LinkSettings settings_;
  const LinkSecurity& security_;
  Handler& handler_;

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_idle_t flush_idle_;  // runs the batched writev once per loop turn
  uv_connect_t connect_req_;
  HandleCloser closer_;

  State state_ = State::kConnecting;
  std::unique_ptr<tls::TlsSession> tls_;  // from startHandshake (gateway) or the connect
  bool tls_up_ = false;   // the TLS handshake completed (latched)
  bool opened_ = false;  // the HELLOs were exchanged (closing or not)
  std::string peer_name_;
  uint64_t peer_instance_ = 0;
  uint64_t peer_capabilities_ = 0;
  SocketAddress peer_address_;
  std::string close_reason_;

  std::vector<uint8_t> cbuf_;  // ciphertext as read from the socket
  std::vector<uint8_t> rbuf_;  // plaintext: at most one incomplete frame between reads
  size_t rlen_ = 0;
  BufferList out_;  // plaintext frames queued this loop turn, encrypted by flush()
  size_t writes_in_flight_ = 0;
  size_t queued_capacity_ = 0;  // memory held by writes in flight, counted against max_write_queue
  bool flush_scheduled_ = false;

  uint64_t credit_ = 0;
  uint64_t last_rx_ms_ = 0;
  uint64_t rtt_us_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t accepted_at_ms_ = 0;
};

template <typename F>
void LinkConnection::send(const F& frame) {
  if (state_ != State::kOpen) return;
  bool tls = peer_capabilities_ & kCapabilityResultTls;
  bool shaping = peer_capabilities_ & kCapabilityShaping;
  if constexpr (std::is_same_v<F, ResultFrame>) {
    // An older initiator refuses a RESULT with bytes after the fields it knows. The shaping
    // fields follow the TLS fields, so they need both.
    bool load = peer_capabilities_ & kCapabilityLoad;
    if ((frame.has_tls && !tls) || (frame.has_shaping && !(tls && shaping)) ||
        (frame.has_load && !(tls && shaping && load))) {
      ResultFrame base = frame;
      base.has_tls = frame.has_tls && tls;
      base.has_shaping = frame.has_shaping && tls && shaping;
      base.has_load = frame.has_load && base.has_shaping && load;
      return queue(base);
    }
  } else if constexpr (std::is_same_v<F, RejectFrame>) {
    if (!shaping && (frame.has_site || frame.reason == RejectReason::kSiteUnavailable)) {
      RejectFrame base = frame;
      base.has_site = false;
      // What it meant to an older initiator: this gateway cannot take it now, another may.
      if (base.reason == RejectReason::kSiteUnavailable) base.reason = RejectReason::kOverCapacity;
      return queue(base);
    }
  } else if constexpr (std::is_same_v<F, SitesFrame>) {
    if (!shaping) return;  // an older initiator would refuse the frame type
  } else if constexpr (std::is_same_v<F, FeedbackFrame>) {
    if (!(peer_capabilities_ & kCapabilityFeedback)) return;  // kept in the spool for another
  } else if constexpr (std::is_same_v<F, ProbeFrame>) {
    if (!(peer_capabilities_ & kCapabilityLoad)) return;  // an older gateway refuses the frame type
  }
  queue(frame);
}

template <typename F>
void LinkConnection::queue(const F& frame) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  encodeFrame(out_, frame);
  scheduleFlush();
}

}  // namespace lbmail::proto
