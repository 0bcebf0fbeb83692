// An admin HTTP connection: ordered answers to pipelined requests, deadlines, lingering close.
#include "admin_connection.h"

#include <openssl/err.h>

#include <chrono>

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

// Stop reading while this much is queued for a client that does not read its answers.
constexpr size_t kWriteHighWater = 1024 * 1024;
constexpr size_t kWriteLowWater = 256 * 1024;
// After our last answer, how long to wait for the client's FIN before closing hard.
constexpr uint64_t kLingerMs = 2000;

HttpRequestReader::Limits readerLimits(const AdminConfig& c) {
  HttpRequestReader::Limits l;
  l.max_header_bytes = c.max_header_bytes;
  l.max_body_bytes = c.max_body_bytes;
  return l;
}

}  // namespace

AdminConnection::AdminConnection(AdminConnectionContext context)
    : context_(std::move(context)), reader_(readerLimits(context_.config)) {}

void AdminConnection::start(uv_stream_t* listener, Handle self) {
  self_ = self;
  uv_tcp_init(context_.loop, &tcp_);
  uv_timer_init(context_.loop, &timer_);
  tcp_.data = this;
  timer_.data = this;
  if (uv_accept(listener, asStream(&tcp_)) != 0) {
    close();
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  if (context_.ssl_ctx != nullptr) {
    SSL* ssl = SSL_new(context_.ssl_ctx);
    if (ssl == nullptr) {
      close();
      return;
    }
    SSL_set_accept_state(ssl);
    tls_ = std::make_unique<tls::TlsSession>(ssl);
  }
  // A new connection gets request_timeout for its first byte, not the keep-alive idle_timeout:
  // silent connections would otherwise hold every slot for a minute.
  armTimer(toMillis(context_.config.request_timeout));
  if (uv_read_start(asStream(&tcp_), onAlloc, onRead) != 0) {
    close();
    return;
  }
  reading_ = true;
}

void AdminConnection::close() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  closer_.close({asHandle(&tcp_), asHandle(&timer_)}, [this] { context_.closed(*this); });  // deletes this
}

void AdminConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<AdminConnection*>(handle->data);
  // Each read is parsed before the next alloc, so one buffer per connection suffices.
  *buf = uv_buf_init(self->read_buf_, sizeof self->read_buf_);
}

void AdminConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<AdminConnection*>(stream->data);
  if (nread == 0 || self->state_ == State::kClosing) return;
  if (nread == UV_EOF && self->state_ == State::kOpen && self->writes_in_flight_ > 0) {
    // A client that half-closes after its request still gets every answer in full.
    self->peer_eof_ = true;
    self->close_after_writes_ = true;
    self->reading_ = false;  // libuv stops reading at end of stream
    return;
  }
  if (nread < 0) {  // EOF with nothing left to send, or a socket error
    self->close();
    return;
  }
  // Lingering, or closing after an error or a 408: the rest of the input is never parsed.
  if (self->state_ == State::kLingering || self->close_after_writes_) return;
  std::string_view bytes(buf->base, static_cast<size_t>(nread));
  if (self->tls_) {
    self->handleCiphertext(bytes);
  } else {
    self->handleBytes(bytes);
  }
}

void AdminConnection::handleCiphertext(std::string_view bytes) {
  tls_->feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  pumpTls();
}

// Decrypts what the session holds and parses it, as far as the handshake allows and until
// parsing pauses: the ciphertext not yet decrypted then waits in the session (at most one
// read's worth, since reading stops with the pause) and resumeParsing comes back here.
void AdminConnection::pumpTls() {
  if (!handshake_done_) {
    tls::TlsSession::Status status = tls_->handshake();
    writeRecords();
    if (status == tls::TlsSession::Status::kWantInput) return;
    if (status != tls::TlsSession::Status::kOk) {
      logDebug("admin.tls_failed", {{"server", context_.name}, {"reason", tls_->error()}});
      close();
      return;
    }
    handshake_done_ = true;
  }
  auto* plain = reinterpret_cast<uint8_t*>(read_buf_);  // its ciphertext is in the session now
  while (state_ == State::kOpen && stash_.empty() && !close_after_writes_) {
    size_t got = 0;
    tls::TlsSession::Status status = tls_->read(plain, sizeof read_buf_, &got);
    if (status == tls::TlsSession::Status::kOk) {
      handleBytes(std::string_view(read_buf_, got));
      continue;
    }
    writeRecords();  // e.g. an alert
    if (status == tls::TlsSession::Status::kClosed) {
      peerFinished();
    } else if (status == tls::TlsSession::Status::kError) {
      logDebug("admin.tls_failed", {{"server", context_.name}, {"reason", tls_->error()}});
      close();
    }
    return;
  }
}

// The client's close_notify: as its FIN, it still gets every answer already made.
void AdminConnection::peerFinished() {
  if (writes_in_flight_ == 0) {
    close();
    return;
  }
  peer_eof_ = true;
  close_after_writes_ = true;
}

void AdminConnection::handleBytes(std::string_view bytes) {
  HttpRequestReader::Result result = reader_.feed(bytes, *this);
  if (result == HttpRequestReader::Result::kPaused) {
    // Too many answers wait for a client that does not read them: keep the unparsed rest of
    // this read and read nothing more until the answers drain (see onWrite).
    stash_.assign(bytes.substr(reader_.consumed()));
    context_.parse_pauses.inc();
    if (reading_) {
      uv_read_stop(asStream(&tcp_));
      reading_ = false;
    }
    flush();
    return;
  }
  if (result == HttpRequestReader::Result::kError) {
    std::string answer;
    AdminRouter::respondError(reader_.errorStatus(), answer);
    pending_bytes_ += answer.size();
    pending_.push_back(std::move(answer));
    context_.count_response(reader_.errorStatus());
    logDebug("admin.bad_request",
             {{"server", context_.name}, {"status", reader_.errorStatus()}, {"reason", reader_.errorReason()}});
  }
  if (result != HttpRequestReader::Result::kNeedMore) close_after_writes_ = true;
  flush();
  if (state_ != State::kOpen) return;
  if (close_after_writes_) {
    finishAfterWrites();
  } else {
    applyBackpressure();
  }
}

void AdminConnection::resumeParsing() {
  std::string rest;
  rest.swap(stash_);
  handleBytes(rest);
  if (tls_ && stash_.empty() && state_ == State::kOpen) pumpTls();
}

bool AdminConnection::idle() const {
  return state_ == State::kOpen && !reader_.midRequest() && writes_in_flight_ == 0 && pending_.empty() &&
         stash_.empty() && !close_after_writes_;
}

bool AdminConnection::wantsPause() {
  return pending_bytes_ + uv_stream_get_write_queue_size(asStream(&tcp_)) > kWriteHighWater;
}

void AdminConnection::onRequestStarted() {
  request_started_ns_ = uv_hrtime();
  armTimer(toMillis(context_.config.request_timeout));
}

bool AdminConnection::onRequest(const HttpRequest& request) {
  bool close = !request.keep_alive || context_.server_closing;
  std::string answer;
  int status = context_.router.respond(request, close, answer);
  pending_bytes_ += answer.size();
  pending_.push_back(std::move(answer));
  context_.count_response(status);
  context_.request_seconds.observe(static_cast<double>(uv_hrtime() - request_started_ns_) / 1e9);
  armTimer(toMillis(context_.config.idle_timeout));
  return !close;
}

void AdminConnection::flush() {
  if (pending_.empty() || state_ == State::kClosing) return;
  std::vector<std::string> parts = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  if (tls_) {
    for (const std::string& part : parts) {
      if (!tls_->write(reinterpret_cast<const uint8_t*>(part.data()), part.size())) {
        close();
        return;
      }
    }
    writeRecords();
    return;
  }
  auto* write = new WriteRequest;
  write->parts = std::move(parts);
  std::vector<uv_buf_t> bufs;
  bufs.reserve(write->parts.size());
  for (std::string& part : write->parts) bufs.push_back(uv_buf_init(part.data(), static_cast<unsigned>(part.size())));
  // All answers produced by one read leave in a single writev, in request order.
  startWrite(write, bufs);
}

// What the TLS session made (handshake messages, encrypted answers, alerts) to the socket.
void AdminConnection::writeRecords() {
  if (tls_->pendingOutput() == 0 || state_ == State::kClosing) return;
  auto* write = new WriteRequest;
  tls_->takeOutput(write->records);
  std::vector<uv_buf_t> bufs = write->records.uvBufs();
  startWrite(write, bufs);
}

void AdminConnection::startWrite(WriteRequest* write, const std::vector<uv_buf_t>& bufs) {
  write->connection = this;
  write->req.data = write;
  int rc = uv_write(&write->req, asStream(&tcp_), bufs.data(), static_cast<unsigned>(bufs.size()), onWrite);
  if (rc != 0) {
    delete write;
    close();
    return;
  }
  ++writes_in_flight_;
}

void AdminConnection::onWrite(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> write(static_cast<WriteRequest*>(req->data));
  AdminConnection* self = write->connection;
  --self->writes_in_flight_;
  if (self->state_ == State::kClosing) return;
  if (status < 0) {
    self->close();
    return;
  }
  if (self->close_after_writes_) {
    self->finishAfterWrites();
  } else if (!self->stash_.empty()) {
    if (uv_stream_get_write_queue_size(asStream(&self->tcp_)) <= kWriteLowWater) self->resumeParsing();
  } else {
    self->applyBackpressure();
  }
}

// Half-closes after the last answer and reads until the client's FIN, so that a client whose
// further pipelined bytes we ignore still receives every answer (closing with unread data
// would reset the connection and could destroy them).
void AdminConnection::finishAfterWrites() {
  if (writes_in_flight_ > 0 || state_ != State::kOpen) return;
  if (peer_eof_) {
    close();  // the client has nothing more to send: no need to linger
    return;
  }
  state_ = State::kLingering;
  armTimer(kLingerMs);
  if (tls_ && handshake_done_) {
    SSL_shutdown(tls_->ssl());  // close_notify (RFC 8446 section 6.1); its answer is not awaited
    ERR_clear_error();
    writeRecords();
  }
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, asStream(&tcp_), onShutdown) != 0) {
    close();
    return;
  }
  if (!reading_ && uv_read_start(asStream(&tcp_), onAlloc, onRead) == 0) reading_ = true;
}

void AdminConnection::onShutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<AdminConnection*>(req->data);
  if (status < 0 && self->state_ != State::kClosing) self->close();
}

void AdminConnection::onTimer(uv_timer_t* timer) {
  auto* self = static_cast<AdminConnection*>(timer->data);
  if (self->state_ == State::kOpen && self->reader_.midRequest() && self->writes_in_flight_ == 0) {
    // A request started but did not arrive in time: say so, then close.
    AdminRouter::respondError(408, self->pending_.emplace_back());
    self->context_.count_response(408);
    self->close_after_writes_ = true;
    self->armTimer(kLingerMs);
    self->flush();
    return;
  }
  self->close();  // idle keep-alive, a client that does not read, or the end of a linger
}

void AdminConnection::armTimer(uint64_t ms) { uv_timer_start(&timer_, onTimer, ms, 0); }

void AdminConnection::applyBackpressure() {
  if (!stash_.empty()) return;  // paused: resumeParsing restarts reading
  size_t queued = uv_stream_get_write_queue_size(asStream(&tcp_));
  if (reading_ && queued > kWriteHighWater) {
    uv_read_stop(asStream(&tcp_));
    reading_ = false;
  } else if (!reading_ && queued <= kWriteLowWater) {
    reading_ = uv_read_start(asStream(&tcp_), onAlloc, onRead) == 0;
  }
}

}  // namespace lbmail
