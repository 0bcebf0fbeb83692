// A TLS 1.3, credit-controlled initiator–gateway link over libuv TCP.
#include "lbmail/proto/link_connection.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <memory>

#include "lbmail/core/log.h"
#include "lbmail/proto/link_opening.h"

namespace lbmail::proto {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Until the handshake completes reads are small: a peer that has not authenticated gets no
// large buffer (a TLS record it sends accumulates in the session's BIO, which OpenSSL bounds).
constexpr size_t kHandshakeReadChunk = 4 * 1024;
constexpr Duration kGoodbyeFlushBound = std::chrono::seconds(1);

bool isHandshakeFrame(FrameType t) { return t == FrameType::kHello || t == FrameType::kGoodbye; }

const char* roleName(Role r) { return r == Role::kGateway ? "gateway" : "initiator"; }

}  // namespace

LinkConnection::LinkConnection(uv_loop_t* loop, Role role, const LinkSettings& settings, const LinkSecurity& security,
                               Handler& handler)
    : loop_(loop), role_(role), settings_(settings), security_(security), handler_(handler) {
  uv_tcp_init(loop_, &tcp_);
  uv_timer_init(loop_, &timer_);
  uv_idle_init(loop_, &flush_idle_);
  tcp_.data = this;
  timer_.data = this;
  flush_idle_.data = this;
  connect_req_.data = this;
}

LinkConnection::~LinkConnection() { assert(state_ == State::kClosed && "close the link and run the loop first"); }

void LinkConnection::connect(const SocketAddress& gateway) {
  peer_address_ = gateway;
  armTimer(settings_.auth_timeout);
  int rc = uv_tcp_connect(&connect_req_, &tcp_, gateway.sockaddrPtr(), onConnect);
  if (rc != 0) abort(std::string("connect failed: ") + uv_strerror(rc));
}

void LinkConnection::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<LinkConnection*>(req->data);
  if (self->state_ != State::kConnecting) return;  // closed meanwhile
  if (status < 0) {
    self->abort(std::string("connect failed: ") + uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(&self->tcp_, 1);
  self->state_ = State::kHandshake;
  self->tls_ = self->security_.newSession();
  self->startReading();
  self->tls_->handshake();  // the ClientHello
  self->scheduleFlush();
}

bool LinkConnection::accept(uv_stream_t* listener) {
  if (uv_accept(listener, asStream(&tcp_)) != 0) {
    abort("accept failed");
    return false;
  }
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    abort("peer address unknown");  // never check an allow-list against a made-up address
    return false;
  }
  peer_address_ = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  accepted_at_ms_ = nowMs();
  return true;
}

void LinkConnection::startHandshake() {
  uv_tcp_nodelay(&tcp_, 1);
  state_ = State::kHandshake;
  armTimer(settings_.auth_timeout);
  tls_ = security_.newSession();
  startReading();
}

void LinkConnection::startReading() {
  cbuf_.resize(kHandshakeReadChunk);
  int rc = uv_read_start(asStream(&tcp_), onAlloc, onRead);
  if (rc != 0) abort(std::string("read failed: ") + uv_strerror(rc));
}

void LinkConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<LinkConnection*>(handle->data);
  // Ciphertext goes into the TLS session as soon as it is read, so one buffer is reused.
  *buf = uv_buf_init(reinterpret_cast<char*>(self->cbuf_.data()), static_cast<unsigned>(self->cbuf_.size()));
}

void LinkConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* self = static_cast<LinkConnection*>(stream->data);
  if (nread == 0 || self->closer_.started()) return;
  if (nread < 0) {
    self->abort(nread == UV_EOF ? "peer closed the connection" : std::string("read failed: ") + uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (self->state_ == State::kClosing) return;  // our GOODBYE is on its way: input is ignored
  self->bytes_received_ += static_cast<uint64_t>(nread);
  self->last_rx_ms_ = self->nowMs();
  self->onCiphertext(self->cbuf_.data(), static_cast<size_t>(nread));
}

void LinkConnection::onCiphertext(const uint8_t* data, size_t n) {
  if (bytes_received_ == n && refusePlaintextPeer(data, n)) return;
  tls_->feed(data, n);
  // Latched: OpenSSL reports "in init" again while it reads a post-handshake message (a
  // KeyUpdate split over records), and SSL_read resumes that work by itself.
  if (!tls_up_) {
    tls::TlsSession::Status status = tls_->handshake();
    if (status == tls::TlsSession::Status::kError) {
      logHandshakeFailure("link.tls_failed", tls_->error());
      closeAfterAlert("TLS handshake failed: " + tls_->error());
      return;
    }
    scheduleFlush();  // the next flight of the handshake
    if (status != tls::TlsSession::Status::kOk) return;
    tls_up_ = true;
    onTlsUp();
    if (state_ != State::kHandshake) return;
  }
  readPlaintext();
}

// The alert OpenSSL queued tells the peer why its handshake failed; it gets a bounded time
// to leave before the connection closes.
void LinkConnection::closeAfterAlert(const std::string& reason) {
  if (tls_->pendingOutput() == 0) {
    abort(reason);
    return;
  }
  BufferList records;
  tls_->takeOutput(records);
  state_ = State::kClosing;
  close_reason_ = reason;
  writeWire(records);
  if (!closer_.started()) armTimer(kGoodbyeFlushBound);
}

// Link versions 1 and 2 were plaintext. An old initiator gets a GOODBYE it can still read.
bool LinkConnection::refusePlaintextPeer(const uint8_t* data, size_t n) {
  LinkOpening opening = classifyOpening(std::span(data, n), role_);
  if (opening.kind == LinkOpening::Kind::kTls) return false;
  std::string version = std::to_string(opening.old_version);
  bool old_link = opening.kind == LinkOpening::Kind::kOldLink;
  if (role_ == Role::kInitiator) {
    logWarn("link.refused", {{"peer", peer_address_.toString()}, {"reason", "gateway answered without TLS"}});
    abort(old_link ? "gateway answered without TLS (link version " + version + ")" : "gateway answered without TLS");
    return true;
  }
  logHandshakeFailure("link.refused", "not TLS");
  if (!old_link) {
    abort("peer does not speak TLS");
    return true;
  }
  BufferList bye;
  encodeOldLinkGoodbye(bye, opening.old_version);
  state_ = State::kClosing;
  close_reason_ = "peer speaks link version " + version + ", without TLS";
  writeWire(bye);
  if (!closer_.started()) armTimer(kGoodbyeFlushBound);
  return true;
}

void LinkConnection::onTlsUp() {
  if (std::string problem = security_.checkPeer(*tls_); !problem.empty()) {
    logHandshakeFailure("link.auth_failed", problem);
    closeAfterAlert(problem);
    return;
  }
  cbuf_.resize(kReadChunk);
  rbuf_.resize(kReadChunk);
  if (role_ == Role::kInitiator) {
    queue(HelloFrame{kProtocolVersion, settings_.node_name, Role::kInitiator, settings_.capabilities,
                     settings_.instance});
  }
}

void LinkConnection::readPlaintext() {
  while (state_ == State::kHandshake || state_ == State::kOpen) {
    // The buffer holds at most one incomplete frame (complete ones are consumed at once), so it
    // never needs more than the largest allowed frame plus one read's worth.
    size_t limit = kHeaderSize + payloadLimit() + kReadChunk;
    if (rbuf_.size() - rlen_ < kReadChunk / 4 && rbuf_.size() < limit) {
      rbuf_.resize(std::min(limit, std::max(rbuf_.size() * 2, rlen_ + kReadChunk)));
    }
    size_t got = 0;
    tls::TlsSession::Status status = tls_->read(rbuf_.data() + rlen_, rbuf_.size() - rlen_, &got);
    if (status == tls::TlsSession::Status::kWantInput) break;
    if (status == tls::TlsSession::Status::kClosed) {
      abort("peer closed the link");
      return;
    }
    if (status == tls::TlsSession::Status::kError) {
      // A record that fails its authentication tag (RFC 8446 section 5.2): tampered with on the way.
      logWarn("link.tls_failed", {{"peer", peer_address_.toString()}, {"error", tls_->error()}});
      abort("TLS record refused: " + tls_->error());
      return;
    }
    rlen_ += got;
    processInput();
  }
  // Reading may have produced records of its own (the answer to a KeyUpdate).
  if (state_ == State::kOpen && tls_->pendingOutput() > 0) scheduleFlush();
}

void LinkConnection::processInput() {
  size_t pos = 0;
  while (state_ != State::kClosing && state_ != State::kClosed) {
    SplitResult split = splitFrame(std::span<const uint8_t>(rbuf_.data() + pos, rlen_ - pos), payloadLimit());
    if (split.status == SplitStatus::kNeedMore) break;
    if (split.status == SplitStatus::kError) {
      close(GoodbyeReason::kProtocolError, split.error);
      return;
    }
    if (state_ != State::kOpen && !isHandshakeFrame(split.header.type)) {
      // Refused from the header alone: nothing of a frame before the HELLOs is decoded.
      logHandshakeFailure("link.handshake_violation", frameTypeName(split.header.type));
      close(GoodbyeReason::kProtocolError, std::string(frameTypeName(split.header.type)) + " before HELLO");
      return;
    }
    auto frame = decodePayload(split.header.type, split.payload);
    if (!frame) {
      close(GoodbyeReason::kProtocolError,
            std::string("malformed ") + frameTypeName(split.header.type) + ": " + frame.error());
      return;
    }
    pos += split.consumed;
    dispatch(*frame);
  }
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  std::memmove(rbuf_.data(), rbuf_.data() + pos, rlen_ - pos);
  rlen_ -= pos;
}

void LinkConnection::dispatch(const Frame& frame) {
  if (state_ != State::kOpen) {
    handleHello(frame);
    return;
  }
  FrameType type = frameType(frame);
  std::optional<Role> sender = senderOf(type);
  if (sender && *sender == role_) {
    close(GoodbyeReason::kProtocolError, std::string(frameTypeName(type)) + " from the wrong side of the link");
    return;
  }
  switch (type) {
    case FrameType::kPing:
      send(PongFrame{std::get<PingFrame>(frame).token});
      return;
    case FrameType::kPong: {
      uint64_t now_us = uv_hrtime() / 1000;
      uint64_t token = std::get<PongFrame>(frame).token;
      if (token <= now_us) {
        rtt_us_ = now_us - token;
        handler_.onLinkRtt(*this, rtt_us_);
      }
      return;
    }
    case FrameType::kHello:
      close(GoodbyeReason::kProtocolError, std::string(frameTypeName(type)) + " after the handshake");
      return;
    case FrameType::kCredit:
      credit_ += std::get<CreditFrame>(frame).grant;
      break;
    case FrameType::kSend:
      // The initiator may never have more SENDs outstanding than the gateway granted.
      if (credit_ == 0) {
        close(GoodbyeReason::kProtocolError, "SEND beyond granted credit");
        return;
      }
      --credit_;
      break;
    case FrameType::kGoodbye: {
      const GoodbyeFrame& bye = std::get<GoodbyeFrame>(frame);
      handler_.onLinkFrame(*this, frame);
      abort("peer said goodbye: " + std::string(bye.text));
      return;
    }
    default:
      break;
  }
  handler_.onLinkFrame(*this, frame);
}

// After TLS: the initiator's HELLO, then the gateway's. Nothing else is accepted before.
void LinkConnection::handleHello(const Frame& frame) {
  FrameType type = frameType(frame);
  if (type == FrameType::kGoodbye) {
    abort("peer refused the link: " + std::string(std::get<GoodbyeFrame>(frame).text));
    return;
  }
  if (type != FrameType::kHello) {
    logHandshakeFailure("link.handshake_violation", frameTypeName(type));
    close(GoodbyeReason::kProtocolError, std::string(frameTypeName(type)) + " before HELLO");
    return;
  }
  const auto& hello = std::get<HelloFrame>(frame);
  Role expected = role_ == Role::kInitiator ? Role::kGateway : Role::kInitiator;
  if (hello.role != expected || hello.version != kProtocolVersion) {
    close(GoodbyeReason::kProtocolError, "peer HELLO has the wrong role or version");
    return;
  }
  // TLS already bound the gateway's name (PSK or certificate); the HELLO must agree with it.
  if (role_ == Role::kInitiator && hello.node_name != security_.gatewayName()) {
    logWarn("link.auth_failed", {{"peer", peer_address_.toString()}, {"error", "gateway names itself " + std::string(hello.node_name)}});
    close(GoodbyeReason::kAuthFailed, "gateway is not " + security_.gatewayName());
    return;
  }
  peer_name_ = std::string(hello.node_name);
  peer_instance_ = hello.instance;
  peer_capabilities_ = hello.capabilities;
  if (role_ == Role::kGateway) {
    queue(HelloFrame{kProtocolVersion, settings_.node_name, Role::kGateway, settings_.capabilities});
  }
  becomeOpen();
}

void LinkConnection::becomeOpen() {
  state_ = State::kOpen;
  opened_ = true;
  last_rx_ms_ = nowMs();
  armTimer(settings_.heartbeat_interval);
  logInfo("link.up", {{"role", roleName(role_)}, {"peer", peer_address_.toString()}, {"peer_name", peer_name_}});
  handler_.onLinkUp(*this);
}

bool LinkConnection::sendRequest(const SendFrame& frame) {
  if (state_ != State::kOpen || role_ != Role::kInitiator || credit_ == 0) return false;
  if (requestProblem(frame, settings_.max_payload)) return false;
  --credit_;
  send(frame);
  return true;
}

void LinkConnection::grantCredit(uint32_t n) {
  if (state_ != State::kOpen || role_ != Role::kGateway || n == 0) return;
  credit_ += n;
  send(CreditFrame{n});
}

void LinkConnection::scheduleFlush() {
  if (flush_scheduled_ || closer_.started()) return;
  flush_scheduled_ = true;
  // An active idle handle runs before the loop next polls (and keeps that poll from
  // blocking), so every frame queued during this turn goes out together.
  uv_idle_start(&flush_idle_, onIdle);
}

void LinkConnection::onIdle(uv_idle_t* idle) {
  auto* self = static_cast<LinkConnection*>(idle->data);
  uv_idle_stop(idle);
  self->flush_scheduled_ = false;
  self->flush();
}

void LinkConnection::flush() {
  if (closer_.started() || !tls_) return;
  BufferList records;
  tls_->takeOutput(records);  // handshake flights, alerts
  // Frames travel only inside TLS: queued before the handshake completes, they wait for it.
  // Each chunk's records are taken at once, so the session's buffer holds one chunk at most.
  if (!out_.empty() && tls_up_) {
    for (const uv_buf_t& chunk : out_.uvBufs()) {
      if (!tls_->write(reinterpret_cast<const uint8_t*>(chunk.base), chunk.len)) {
        abort("TLS write failed: " + tls_->error());
        return;
      }
      tls_->takeOutput(records);
    }
    out_.clear();
  }
  if (!records.empty()) writeWire(records);
}

void LinkConnection::writeWire(BufferList& bytes) {
  // Count the memory the unsent writes hold, not just their bytes: a peer that never reads
  // must not make many small writes pin many chunks.
  if (queued_capacity_ + bytes.capacity() > settings_.max_write_queue) {
    abort("peer is not reading (write queue full)");
    return;
  }
  auto* write = new WriteRequest;
  write->link = this;
  bytes.moveTo(write->chunks);
  queued_capacity_ += write->chunks.capacity();
  std::vector<uv_buf_t> bufs = write->chunks.uvBufs();
  write->req.data = write;
  size_t n = write->chunks.size();
  int rc = uv_write(&write->req, asStream(&tcp_), bufs.data(), static_cast<unsigned>(bufs.size()), onWrite);
  if (rc != 0) {
    delete write;
    abort(std::string("write failed: ") + uv_strerror(rc));
    return;
  }
  ++writes_in_flight_;
  bytes_sent_ += n;
}

std::string LinkConnection::cipherName() const {
  const SSL_CIPHER* cipher = tls_up_ ? SSL_get_current_cipher(tls_->ssl()) : nullptr;
  return cipher ? SSL_CIPHER_get_name(cipher) : "";
}

void LinkConnection::onWrite(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> write(static_cast<WriteRequest*>(req->data));
  LinkConnection* self = write->link;
  --self->writes_in_flight_;
  self->queued_capacity_ -= write->chunks.capacity();
  if (self->closer_.started()) return;
  if (status < 0) {
    self->abort(std::string("write failed: ") + uv_strerror(status));
    return;
  }
  if (self->state_ == State::kClosing && self->writes_in_flight_ == 0) self->closeHandles(self->close_reason_);
}

void LinkConnection::close(GoodbyeReason reason, std::string_view text) {
  if (closer_.started() || state_ == State::kClosing || state_ == State::kClosed) return;
  if (state_ == State::kConnecting) {
    abort(text);
    return;
  }
  encodeFrame(out_, GoodbyeFrame{reason, text});
  state_ = State::kClosing;
  close_reason_ = std::string(text);
  flush();
  if (closer_.started()) return;
  if (writes_in_flight_ == 0) {
    closeHandles(close_reason_);
  } else {
    armTimer(kGoodbyeFlushBound);  // a peer that does not read gets no longer than this
  }
}

void LinkConnection::abort(std::string_view reason) { closeHandles(reason); }

// On a gateway the acceptor logs the end of every failed handshake, at most once per interval
// per address (LinkAcceptor::logRefusal), so here only at debug: a flood of them must not flood the log.
void LinkConnection::logHandshakeFailure(std::string_view event, std::string_view error) {
  LogLevel level = role_ == Role::kGateway ? LogLevel::kDebug : LogLevel::kWarn;
  if (logger().enabled(level)) logger().log(level, event, {{"peer", peer_address_.toString()}, {"error", error}});
}

void LinkConnection::closeHandles(std::string_view reason) {
  if (closer_.started()) return;
  close_reason_ = std::string(reason);
  state_ = State::kClosing;
  // A gateway's handshake that ends is its acceptor's to log, at most once per interval per
  // address (LinkAcceptor::logRefusal): a flood of them must not flood the log.
  LogLevel level = role_ == Role::kGateway && !opened_ ? LogLevel::kDebug : LogLevel::kInfo;
  if (logger().enabled(level)) {
    logger().log(level, "link.closed", {{"role", roleName(role_)}, {"peer", peer_address_.toString()}, {"reason", close_reason_}});
  }
  closer_.close({asHandle(&tcp_), asHandle(&timer_), asHandle(&flush_idle_)}, [this] {
    state_ = State::kClosed;
    handler_.onLinkClosed(*this, close_reason_);  // may delete this
  });
}

void LinkConnection::armTimer(Duration d) { uv_timer_start(&timer_, onTimer, toMillis(d), 0); }

void LinkConnection::onTimer(uv_timer_t* timer) {
  auto* self = static_cast<LinkConnection*>(timer->data);
  switch (self->state_) {
    case State::kConnecting:
    case State::kHandshake:
      if (self->role_ == Role::kInitiator) logWarn("link.handshake_timeout", {{"peer", self->peer_address_.toString()}});
      self->abort("handshake timed out");
      return;
    case State::kOpen: {
      uint64_t silent_ms = self->nowMs() - self->last_rx_ms_;
      if (silent_ms > toMillis(self->settings_.heartbeat_timeout)) {
        self->abort("heartbeat timeout: nothing received for " + std::to_string(silent_ms) + "ms");
        return;
      }
      self->send(PingFrame{uv_hrtime() / 1000});
      self->armTimer(self->settings_.heartbeat_interval);
      return;
    }
    case State::kClosing:
      self->closeHandles(self->close_reason_);
      return;
    case State::kClosed:
      return;
  }
}

}  // namespace lbmail::proto
