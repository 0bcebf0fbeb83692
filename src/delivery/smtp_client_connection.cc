// The outgoing SMTP connection's I/O: socket, writes, TLS and the one timer under the protocol.
#include "smtp_client_connection.h"

#include <openssl/err.h>

#include <algorithm>
#include <cassert>
#include <vector>

#include "lbmail/core/log.h"

namespace lbmail::delivery {
namespace {

Duration since(uint64_t start_ns) { return Duration(uv_hrtime() - start_ns); }

}  // namespace

// One writev: the protocol's gathered write and the libuv buffers over its slices, or over
// the TLS records it was encrypted into.
struct SmtpClientConnection::Write {
  uv_write_t req;
  SmtpClientConnection* connection = nullptr;
  std::unique_ptr<smtp::SmtpClientWrite> data;  // plain only
  BufferList records;                           // TLS only
  std::vector<uv_buf_t> bufs;
  bool carries_body = false;
  bool from_protocol = true;  // false: TLS's own records, which the protocol did not ask for
};

SmtpClientConnection::SmtpClientConnection(uv_loop_t* loop, const SmtpClientSettings& settings, Handler& handler)
    : loop_(loop), settings_(settings), handler_(handler), protocol_(settings, *this) {}

SmtpClientConnection::~SmtpClientConnection() { assert(!handles_open_ || closed_); }

void SmtpClientConnection::setTls(const SmtpTlsContext& context, const TlsRequirement& requirement, StartTls mode,
                                  SharedSslSession resume) {
  tls_context_ = &context;
  tls_requirement_ = requirement;
  tls_info_.policy = requirement.policy;
  resume_ = std::move(resume);
  protocol_.setStartTls(mode);
}

void SmtpClientConnection::connect(const std::optional<SocketAddress>& source, const SocketAddress& destination) {
  destination_ = destination;
  connect_started_ = uv_hrtime();
  uv_tcp_init(loop_, &tcp_);
  uv_timer_init(loop_, &timer_);
  tcp_.data = this;
  timer_.data = this;
  connect_req_.data = this;
  handles_open_ = true;
  int rc = 0;
  if (source) rc = uv_tcp_bind(&tcp_, source->sockaddrPtr(), 0);
  if (rc == 0) rc = uv_tcp_connect(&connect_req_, &tcp_, destination.sockaddrPtr(), onConnect);
  if (rc < 0) {
    // Reported from the loop, not from inside this call, so the caller's state stays simple.
    failSoon(End::kConnectFailed,
             std::string(source && rc != 0 ? "cannot bind or connect from " + source->host() : "cannot connect") +
                 ": " + uv_strerror(rc));
    return;
  }
  startTimer(settings_.connect_timeout);
}

void SmtpClientConnection::onConnect(uv_connect_t* req, int status) {
  // req->data, not the handle's: a closing handle's data belongs to the HandleCloser.
  auto* self = static_cast<SmtpClientConnection*>(req->data);
  if (self->protocol_.state() != State::kConnecting) return;
  if (status < 0) {
    self->protocol_.fail(End::kConnectFailed, "connect to " + self->destination_.toString() + ": " + uv_strerror(status));
    return;
  }
  self->connected_at_ = uv_hrtime();
  self->connect_time_ = Duration(self->connected_at_ - self->connect_started_);
  uv_tcp_nodelay(&self->tcp_, 1);
  self->protocol_.start();
  uv_read_start(asStream(&self->tcp_), onAlloc, onRead);
}

void SmtpClientConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<SmtpClientConnection*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
}

void SmtpClientConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<SmtpClientConnection*>(stream->data);
  if (nread < 0) {
    self->protocol_.onConnectionLost(nread == UV_EOF ? "connection closed by the server"
                                                     : uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (self->pending_end_ || nread == 0) return;  // failing already; or nothing read
  if (self->tls_) {
    self->onCiphertext(buf->base, static_cast<size_t>(nread));
    return;
  }
  self->protocol_.receive(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void SmtpClientConnection::startTls() {
  std::string why = "TLS is not configured";
  if (tls_context_) tls_ = tls_context_->newSession(tls_requirement_, resume_.get(), &why);
  if (!tls_) {
    failSoon(End::kTlsFailed, "TLS: " + why);
    return;
  }
  tls_->setNewSessionListener([this](SSL_SESSION* session) {
    handler_.onTlsSession(*this, SharedSslSession(session, SSL_SESSION_free));
  });
  tls::TlsSession::Status status = tls_->handshake();  // the ClientHello
  flushTls();
  if (status == tls::TlsSession::Status::kError) {
    failSoon(End::kTlsFailed, "TLS handshake failed: " + SmtpTlsContext::handshakeFailure(*tls_));
  }
}

void SmtpClientConnection::onCiphertext(const char* data, size_t n) {
  tls_->feed(reinterpret_cast<const uint8_t*>(data), n);
  if (!tls_up_) {
    tls::TlsSession::Status status = tls_->handshake();
    flushTls();  // the next flight, or the alert that says why not
    if (status == tls::TlsSession::Status::kError) {
      protocol_.fail(End::kTlsFailed, "TLS handshake failed: " + SmtpTlsContext::handshakeFailure(*tls_));
      return;
    }
    if (status != tls::TlsSession::Status::kOk) return;
    tls_up_ = true;
    tls_resumed_ = SSL_session_reused(tls_->ssl()) == 1;
    tls_info_ = SmtpTlsContext::describe(*tls_, tls_requirement_);
    if (tls_requirement_.testing && !tls_info_.verified) {
      // MTA-STS in testing mode: a failed check is reported, never enforced (RFC 8461 section 5).
      logWarn("smtp.tls_testing_unverified",
              {{"host", tls_requirement_.host},
               {"destination", destination_.toString()},
               {"reason", X509_verify_cert_error_string(SSL_get_verify_result(tls_->ssl()))}});
    }
    protocol_.onTlsEstablished();
  }
  readPlaintext();
}

void SmtpClientConnection::readPlaintext() {
  auto* buf = reinterpret_cast<uint8_t*>(read_buffer_.data());  // the ciphertext is in the BIO now
  while (protocol_.state() < State::kClosing) {
    size_t got = 0;
    tls::TlsSession::Status status = tls_->read(buf, read_buffer_.size(), &got);
    if (status == tls::TlsSession::Status::kWantInput) break;
    if (status == tls::TlsSession::Status::kClosed) {
      protocol_.onConnectionLost("connection closed by the server (TLS close_notify)");
      return;
    }
    if (status == tls::TlsSession::Status::kError) {
      protocol_.fail(End::kNetwork, "TLS: " + tls_->error());
      return;
    }
    protocol_.receive(std::string_view(read_buffer_.data(), got));
  }
  if (protocol_.state() < State::kClosing) flushTls();  // answers to post-handshake messages
}

void SmtpClientConnection::flushTls() {
  if (tls_->pendingOutput() == 0) return;
  auto w = std::make_unique<Write>();
  w->from_protocol = false;
  tls_->takeOutput(w->records);
  submit(std::move(w));
}

// The protocol's slices, encrypted: small ones gathered into records of up to 16 KiB (the
// most a record carries, RFC 8446 section 5.1) rather than a record each, large ones
// encrypted where they lie. The records land in the session's chunks, taken once at the end.
bool SmtpClientConnection::encrypt(const smtp::SmtpClientWrite& data, BufferList& out) {
  constexpr size_t kRecord = 16384;
  auto seal = [&](std::string_view plain) {
    return tls_->write(reinterpret_cast<const uint8_t*>(plain.data()), plain.size());
  };
  tls_staging_.clear();
  for (std::string_view s : data.slices) {
    while (!s.empty()) {
      size_t n = std::min(s.size(), kRecord - tls_staging_.size());
      if (tls_staging_.empty() && n == kRecord) {
        if (!seal(s.substr(0, n))) return false;
      } else {
        tls_staging_.append(s.substr(0, n));
      }
      s.remove_prefix(n);
      if (tls_staging_.size() == kRecord) {
        if (!seal(tls_staging_)) return false;
        tls_staging_.clear();
      }
    }
  }
  if (!tls_staging_.empty() && !seal(tls_staging_)) return false;
  tls_->takeOutput(out);
  return true;
}

void SmtpClientConnection::send(const OutgoingMessage& message, TransactionDone done) {
  uint64_t started = uv_hrtime();
  bool reused = protocol_.completed() > 0;
  protocol_.send(message, [this, started, reused, done = std::move(done)](smtp::SmtpTransactionResult&& r) {
    DeliveryResult result = deliveryResultOf(std::move(r));
    result.mx_address = destination_;
    result.connection_reused = reused;
    result.tls = tls_info_;
    result.timings.connect = connect_time_;
    result.timings.greeting = greeting_time_;
    result.timings.transaction = since(started);
    done(std::move(result));
  });
}

void SmtpClientConnection::write(std::unique_ptr<smtp::SmtpClientWrite> data) {
  auto w = std::make_unique<Write>();
  w->carries_body = data->carries_body;
  if (tls_up_) {
    // The plaintext (and the bodies it points into) is not needed once encrypted.
    if (!encrypt(*data, w->records)) {
      failSoon(End::kNetwork, "TLS write: " + tls_->error());
      return;
    }
  } else {
    w->bufs.reserve(data->slices.size());
    for (std::string_view s : data->slices) {
      w->bufs.push_back(uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size())));
    }
    w->data = std::move(data);
  }
  submit(std::move(w));
}

void SmtpClientConnection::submit(std::unique_ptr<Write> w) {
  w->connection = this;
  w->req.data = w.get();
  if (!w->records.empty()) w->bufs = w->records.uvBufs();
  int rc = uv_write(&w->req, asStream(&tcp_), w->bufs.data(), static_cast<unsigned>(w->bufs.size()), onWrite);
  if (rc < 0) {
    failSoon(End::kNetwork, std::string("write: ") + uv_strerror(rc));
    return;
  }
  w.release();  // onWrite frees it
}

void SmtpClientConnection::onWrite(uv_write_t* req, int status) {
  std::unique_ptr<Write> w(static_cast<Write*>(req->data));
  SmtpClientConnection* self = w->connection;
  if (status < 0 && status != UV_ECANCELED && self->protocol_.state() < State::kClosing) {
    self->protocol_.fail(End::kNetwork, std::string("write: ") + uv_strerror(status));
    return;
  }
  if (w->from_protocol) self->protocol_.onWritten(w->carries_body);
}

void SmtpClientConnection::onGreeting(const smtp::SmtpReply&) { greeting_time_ = since(connected_at_); }

void SmtpClientConnection::armTimer(smtp::TimeoutPhase phase) {
  // The data-block timer measures progress from here (see writeQueueShrank).
  if (phase == smtp::TimeoutPhase::kDataBlock) write_queue_at_arm_ = writeQueueSize();
  startTimer(timeoutOf(phase, settings_));
}

void SmtpClientConnection::startTimer(Duration timeout) {
  if (pending_end_) timeout = Duration(0);
  uv_timer_start(&timer_, onTimer, toMillis(timeout), 0);
}

void SmtpClientConnection::failSoon(End end, std::string reason) {
  pending_end_ = end;
  pending_reason_ = std::move(reason);
  startTimer(Duration(0));
}

void SmtpClientConnection::onTimer(uv_timer_t* timer) {
  auto* self = static_cast<SmtpClientConnection*>(timer->data);
  if (self->pending_end_) {
    End end = *self->pending_end_;
    self->pending_end_.reset();
    self->protocol_.fail(end, self->pending_reason_);
    return;
  }
  if (self->protocol_.state() == State::kConnecting) {
    self->protocol_.fail(End::kConnectFailed, "connect to " + self->destination_.toString() + ": timed out");
    return;
  }
  self->protocol_.onTimeout([self] { return self->writeQueueShrank(); });
}

size_t SmtpClientConnection::writeQueueSize() {
  return uv_stream_get_write_queue_size(asStream(&tcp_));
}

bool SmtpClientConnection::writeQueueShrank() {
  size_t now = writeQueueSize();
  bool shrank = now < write_queue_at_arm_;
  write_queue_at_arm_ = now;
  return shrank;
}

void SmtpClientConnection::close() {
  // close_notify after a clean end (QUIT): without it OpenSSL takes the session as broken when
  // it is freed, and marks it never to be resumed.
  if (tls_up_ && protocol_.end() == End::kQuit) {
    ERR_clear_error();
    SSL_shutdown(tls_->ssl());
    flushTls();
  }
  closer_.close({asHandle(&tcp_), asHandle(&timer_)}, [this] {
    closed_ = true;
    handler_.onConnectionClosed(*this, protocol_.end(), protocol_.endReason());  // may delete this
  });
}

}  // namespace lbmail::delivery
