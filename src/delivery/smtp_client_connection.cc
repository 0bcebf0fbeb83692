// The outgoing SMTP connection's I/O: socket, writes and the one timer under the protocol.
#include "smtp_client_connection.h"

#include <cassert>
#include <vector>

namespace lbmail::delivery {
namespace {

Duration since(uint64_t start_ns) { return Duration(uv_hrtime() - start_ns); }

}  // namespace

// One writev: the protocol's gathered write and the libuv buffers over its slices.
struct SmtpClientConnection::Write {
  uv_write_t req;
  SmtpClientConnection* connection = nullptr;
  std::unique_ptr<smtp::SmtpClientWrite> data;
  std::vector<uv_buf_t> bufs;
};

SmtpClientConnection::SmtpClientConnection(uv_loop_t* loop, const SmtpClientSettings& settings, Handler& handler)
    : loop_(loop), settings_(settings), handler_(handler), protocol_(settings, *this) {}

SmtpClientConnection::~SmtpClientConnection() { assert(!handles_open_ || closed_); }

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
  self->protocol_.receive(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void SmtpClientConnection::send(const OutgoingMessage& message, TransactionDone done) {
  uint64_t started = uv_hrtime();
  bool reused = protocol_.completed() > 0;
  protocol_.send(message, [this, started, reused, done = std::move(done)](smtp::SmtpTransactionResult&& r) {
    DeliveryResult result = deliveryResultOf(std::move(r));
    result.mx_address = destination_;
    result.connection_reused = reused;
    result.timings.connect = connect_time_;
    result.timings.greeting = greeting_time_;
    result.timings.transaction = since(started);
    done(std::move(result));
  });
}

void SmtpClientConnection::write(std::unique_ptr<smtp::SmtpClientWrite> data) {
  auto* w = new Write;
  w->connection = this;
  w->bufs.reserve(data->slices.size());
  for (std::string_view s : data->slices) {
    w->bufs.push_back(uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size())));
  }
  w->data = std::move(data);
  int rc = uv_write(&w->req, asStream(&tcp_), w->bufs.data(),
                    static_cast<unsigned>(w->bufs.size()), onWrite);
  if (rc < 0) {
    delete w;
    failSoon(End::kNetwork, std::string("write: ") + uv_strerror(rc));
  }
}

void SmtpClientConnection::onWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<Write*>(req);
  SmtpClientConnection* self = w->connection;
  bool body = w->data->carries_body;
  delete w;
  if (status < 0 && status != UV_ECANCELED && self->protocol_.state() < State::kClosing) {
    self->protocol_.fail(End::kNetwork, std::string("write: ") + uv_strerror(status));
    return;
  }
  self->protocol_.onWritten(body);
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
  closer_.close({asHandle(&tcp_), asHandle(&timer_)}, [this] {
    closed_ = true;
    handler_.onConnectionClosed(*this, protocol_.end(), protocol_.endReason());  // may delete this
  });
}

}  // namespace lbmail::delivery
