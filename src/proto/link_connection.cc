// An authenticated, credit-controlled initiator–gateway link over libuv TCP.
#include "lbmail/proto/link_connection.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <memory>

#include "lbmail/core/log.h"

namespace lbmail::proto {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr Duration kGoodbyeFlushBound = std::chrono::seconds(1);

bool isHandshakeFrame(FrameType t) {
  return t == FrameType::kAuthChallenge || t == FrameType::kAuthResponse || t == FrameType::kHello ||
         t == FrameType::kGoodbye;
}

const char* roleName(Role r) { return r == Role::kGateway ? "gateway" : "initiator"; }

}  // namespace

LinkConnection::LinkConnection(uv_loop_t* loop, Role role, const LinkSettings& settings, const PreSharedKey& key,
                               Handler& handler)
    : loop_(loop), role_(role), settings_(settings), key_(key), handler_(handler) {
  uv_tcp_init(loop_, &tcp_);
  uv_timer_init(loop_, &timer_);
  uv_idle_init(loop_, &flush_idle_);
  tcp_.data = this;
  timer_.data = this;
  flush_idle_.data = this;
  connect_req_.data = this;
  step_ = role_ == Role::kInitiator ? Step::kAwaitProof : Step::kAwaitChallenge;
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
  self->startReading();
  self->initiator_nonce_ = PreSharedKey::freshNonce();
  AuthChallengeFrame challenge;
  challenge.nonce = self->initiator_nonce_;
  self->queue(challenge);
}

bool LinkConnection::accept(uv_stream_t* listener, const std::vector<std::string>& allowed_hosts) {
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
  if (!allowed_hosts.empty() &&
      std::find(allowed_hosts.begin(), allowed_hosts.end(), peer_address_.host()) == allowed_hosts.end()) {
    logWarn("link.refused", {{"peer", peer_address_.toString()}, {"reason", "address not in allowed_initiators"}});
    abort("address not allowed");
    return false;
  }
  accepted_at_ms_ = nowMs();
  return true;
}

void LinkConnection::startHandshake() {
  uv_tcp_nodelay(&tcp_, 1);
  state_ = State::kHandshake;
  armTimer(settings_.auth_timeout);
  startReading();
}

void LinkConnection::startReading() {
  rbuf_.resize(kReadChunk);
  int rc = uv_read_start(asStream(&tcp_), onAlloc, onRead);
  if (rc != 0) abort(std::string("read failed: ") + uv_strerror(rc));
}

void LinkConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<LinkConnection*>(handle->data);
  // The buffer holds at most one incomplete frame (complete ones are consumed at once), so it
  // never needs more than the largest allowed frame plus one read's worth.
  size_t limit = kHeaderSize + self->payloadLimit() + kReadChunk;
  if (self->rbuf_.size() - self->rlen_ < kReadChunk / 4 && self->rbuf_.size() < limit) {
    self->rbuf_.resize(std::min(limit, std::max(self->rbuf_.size() * 2, self->rlen_ + kReadChunk)));
  }
  *buf = uv_buf_init(reinterpret_cast<char*>(self->rbuf_.data() + self->rlen_),
                     static_cast<unsigned>(self->rbuf_.size() - self->rlen_));
}

void LinkConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* self = static_cast<LinkConnection*>(stream->data);
  if (nread == 0 || self->closer_.started()) return;
  if (nread < 0) {
    self->abort(nread == UV_EOF ? "peer closed the connection" : std::string("read failed: ") + uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (self->state_ == State::kClosing) return;  // our GOODBYE is on its way: input is ignored
  self->rlen_ += static_cast<size_t>(nread);
  self->bytes_received_ += static_cast<uint64_t>(nread);
  self->last_rx_ms_ = self->nowMs();
  self->processInput();
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
      // Refused from the header alone: nothing of an unauthenticated peer's frame is decoded.
      logWarn("link.handshake_violation", {{"peer", peer_address_.toString()}, {"frame", frameTypeName(split.header.type)}});
      close(GoodbyeReason::kProtocolError, std::string(frameTypeName(split.header.type)) + " before authentication");
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
    handleHandshake(frame);
    return;
  }
  FrameType type = frameType(frame);
  bool from_gateway = type == FrameType::kCatalog || type == FrameType::kAccept || type == FrameType::kReject ||
                      type == FrameType::kResult || type == FrameType::kCredit || type == FrameType::kLoad ||
                      type == FrameType::kDrain;
  bool from_initiator = type == FrameType::kMaterial || type == FrameType::kSend;
  if ((from_gateway && role_ != Role::kInitiator) || (from_initiator && role_ != Role::kGateway)) {
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
    case FrameType::kAuthChallenge:
    case FrameType::kAuthResponse:
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

void LinkConnection::handleHandshake(const Frame& frame) {
  FrameType type = frameType(frame);
  if (type == FrameType::kGoodbye) {
    abort("peer refused the link: " + std::string(std::get<GoodbyeFrame>(frame).text));
    return;
  }
  if (role_ == Role::kInitiator && step_ == Step::kAwaitProof && type == FrameType::kAuthChallenge) {
    const auto& c = std::get<AuthChallengeFrame>(frame);
    gateway_nonce_ = c.nonce;
    if (!c.has_proof || !key_.verify(Role::kGateway, initiator_nonce_, gateway_nonce_, c.proof)) {
      logWarn("link.auth_failed", {{"peer", peer_address_.toString()}, {"who", "gateway"}});
      close(GoodbyeReason::kAuthFailed, "gateway failed authentication");
      return;
    }
    queue(AuthResponseFrame{key_.prove(Role::kInitiator, initiator_nonce_, gateway_nonce_)});
    queue(HelloFrame{kProtocolVersion, settings_.node_name, Role::kInitiator, settings_.capabilities,
                     settings_.instance});
    step_ = Step::kAwaitHello;
    return;
  }
  if (role_ == Role::kGateway && step_ == Step::kAwaitChallenge && type == FrameType::kAuthChallenge) {
    const auto& c = std::get<AuthChallengeFrame>(frame);
    if (c.has_proof) {
      close(GoodbyeReason::kProtocolError, "initiator challenge carries a proof");
      return;
    }
    initiator_nonce_ = c.nonce;
    gateway_nonce_ = PreSharedKey::freshNonce();
    AuthChallengeFrame answer;
    answer.nonce = gateway_nonce_;
    answer.has_proof = true;
    answer.proof = key_.prove(Role::kGateway, initiator_nonce_, gateway_nonce_);
    queue(answer);
    step_ = Step::kAwaitProof;
    return;
  }
  if (role_ == Role::kGateway && step_ == Step::kAwaitProof && type == FrameType::kAuthResponse) {
    if (!key_.verify(Role::kInitiator, initiator_nonce_, gateway_nonce_, std::get<AuthResponseFrame>(frame).proof)) {
      logWarn("link.auth_failed", {{"peer", peer_address_.toString()}, {"who", "initiator"}});
      close(GoodbyeReason::kAuthFailed, "initiator failed authentication");
      return;
    }
    step_ = Step::kAwaitHello;
    return;
  }
  if (step_ == Step::kAwaitHello && type == FrameType::kHello) {
    const auto& hello = std::get<HelloFrame>(frame);
    Role expected = role_ == Role::kInitiator ? Role::kGateway : Role::kInitiator;
    if (hello.role != expected || hello.version != kProtocolVersion) {
      close(GoodbyeReason::kProtocolError, "peer HELLO has the wrong role or version");
      return;
    }
    peer_name_ = std::string(hello.node_name);
    peer_instance_ = hello.instance;
    if (role_ == Role::kGateway) {
      queue(HelloFrame{kProtocolVersion, settings_.node_name, Role::kGateway, settings_.capabilities});
    }
    becomeOpen();
    return;
  }
  // Nothing but the handshake is accepted before it completes: no SEND reaches a gateway
  // from a peer that has not proved it holds the key.
  logWarn("link.handshake_violation", {{"peer", peer_address_.toString()}, {"frame", frameTypeName(type)}});
  close(GoodbyeReason::kProtocolError, std::string(frameTypeName(type)) + " before authentication");
}

void LinkConnection::becomeOpen() {
  state_ = State::kOpen;
  step_ = Step::kDone;
  last_rx_ms_ = nowMs();
  armTimer(settings_.heartbeat_interval);
  logInfo("link.up", {{"role", roleName(role_)}, {"peer", peer_address_.toString()}, {"peer_name", peer_name_}});
  handler_.onLinkUp(*this);
}

const char* LinkConnection::requestProblem(const SendFrame& frame, uint32_t max_payload) {
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
  if (out_.empty() || closer_.started()) return;
  // Count the memory the unsent writes hold, not just their bytes: a peer that never reads
  // must not make many small writes pin many chunks.
  if (queued_capacity_ + out_.capacity() > settings_.max_write_queue) {
    abort("peer is not reading (write queue full)");
    return;
  }
  auto* write = new WriteRequest;
  write->link = this;
  out_.moveTo(write->chunks);
  queued_capacity_ += write->chunks.capacity();
  std::vector<uv_buf_t> bufs = write->chunks.uvBufs();
  write->req.data = write;
  size_t bytes = write->chunks.size();
  int rc = uv_write(&write->req, asStream(&tcp_), bufs.data(), static_cast<unsigned>(bufs.size()), onWrite);
  if (rc != 0) {
    delete write;
    abort(std::string("write failed: ") + uv_strerror(rc));
    return;
  }
  ++writes_in_flight_;
  bytes_sent_ += bytes;
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

void LinkConnection::closeHandles(std::string_view reason) {
  if (closer_.started()) return;
  close_reason_ = std::string(reason);
  state_ = State::kClosing;
  // A gateway's handshake that ends is its acceptor's to log, at most once per interval per
  // address (LinkAcceptor::logRefusal): a flood of them must not flood the log.
  LogLevel level = role_ == Role::kGateway && step_ != Step::kDone ? LogLevel::kDebug : LogLevel::kInfo;
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
