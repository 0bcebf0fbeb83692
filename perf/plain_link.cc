// The plaintext benchmark link: LinkConnection's read, batch and credit path without TLS.
#include "plain_link.h"

#include <algorithm>
#include <cstring>
#include <memory>


namespace lbmail::perf {
namespace {
constexpr size_t kReadChunk = 64 * 1024;  // as LinkConnection reads
}  // namespace

PlainLink::PlainLink(uv_loop_t* loop, proto::Role role, Handler& handler)
    : loop_(loop), role_(role), handler_(handler) {
  uv_tcp_init(loop_, &tcp_);
  uv_idle_init(loop_, &flush_idle_);
  tcp_.data = this;
  flush_idle_.data = this;
  connect_req_.data = this;
}

PlainLink::~PlainLink() = default;

void PlainLink::connect(const SocketAddress& gateway) {
  if (uv_tcp_connect(&connect_req_, &tcp_, gateway.sockaddrPtr(), onConnect) != 0) fail("connect failed");
}

void PlainLink::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<PlainLink*>(req->data);
  if (self->closer_.started()) return;
  if (status < 0) {
    self->fail("connect failed");
    return;
  }
  self->becomeOpen();
}

bool PlainLink::accept(uv_stream_t* listener) {
  if (uv_accept(listener, asStream(&tcp_)) != 0) {
    fail("accept failed");
    return false;
  }
  becomeOpen();
  return true;
}

void PlainLink::becomeOpen() {
  uv_tcp_nodelay(&tcp_, 1);
  open_ = true;
  rbuf_.resize(kReadChunk);
  if (uv_read_start(asStream(&tcp_), onAlloc, onRead) != 0) {
    fail("read failed");
    return;
  }
  handler_.onPlainUp(*this);
}

void PlainLink::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<PlainLink*>(handle->data);
  if (self->rbuf_.size() - self->rlen_ < kReadChunk / 4) self->rbuf_.resize(self->rbuf_.size() * 2);
  *buf = uv_buf_init(reinterpret_cast<char*>(self->rbuf_.data() + self->rlen_),
                     static_cast<unsigned>(self->rbuf_.size() - self->rlen_));
}

void PlainLink::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* self = static_cast<PlainLink*>(stream->data);
  if (nread == 0 || self->closer_.started()) return;
  if (nread < 0) {
    self->close();  // the peer closed: the end of a benchmark run, not an error
    return;
  }
  self->rlen_ += static_cast<size_t>(nread);
  self->processInput();
}

void PlainLink::processInput() {
  size_t pos = 0;
  while (!closer_.started()) {
    std::span<const uint8_t> input(rbuf_.data() + pos, rlen_ - pos);
    auto split = proto::splitFrame(input, proto::kDefaultMaxPayload);
    if (split.status == proto::SplitStatus::kNeedMore) break;
    if (split.status == proto::SplitStatus::kError) return fail(split.error);
    auto frame = proto::decodePayload(split.header.type, split.payload);
    if (!frame) return fail(frame.error());
    pos += split.consumed;
    countCredit(*frame);
    if (!closer_.started()) handler_.onPlainFrame(*this, *frame);
  }
  if (closer_.started()) return;
  std::memmove(rbuf_.data(), rbuf_.data() + pos, rlen_ - pos);
  rlen_ -= pos;
}

// The credit window, kept as LinkConnection::dispatch keeps it.
void PlainLink::countCredit(const proto::Frame& frame) {
  if (const auto* grant = std::get_if<proto::CreditFrame>(&frame)) {
    credit_ += grant->grant;
  } else if (std::holds_alternative<proto::SendFrame>(frame)) {
    if (credit_ == 0) return fail("SEND beyond granted credit");
    --credit_;
  }
}

bool PlainLink::sendRequest(const proto::SendFrame& frame) {
  if (!isOpen() || role_ != proto::Role::kInitiator || credit_ == 0) return false;
  if (proto::requestProblem(frame, proto::kDefaultMaxPayload)) return false;
  --credit_;
  send(frame);
  return true;
}

void PlainLink::grantCredit(uint32_t n) {
  if (!isOpen() || role_ != proto::Role::kGateway || n == 0) return;
  credit_ += n;
  send(proto::CreditFrame{n});
}

void PlainLink::scheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // As LinkConnection: an active idle handle runs before the loop next polls, so every frame
  // queued during this turn leaves in one writev.
  uv_idle_start(&flush_idle_, onIdle);
}

void PlainLink::onIdle(uv_idle_t* idle) {
  auto* self = static_cast<PlainLink*>(idle->data);
  uv_idle_stop(idle);
  self->flush_scheduled_ = false;
  self->flush();
}

void PlainLink::flush() {
  if (out_.empty() || closer_.started()) return;
  auto* write = new WriteRequest;
  out_.moveTo(write->chunks);
  std::vector<uv_buf_t> bufs = write->chunks.uvBufs();
  write->req.data = write;
  if (uv_write(&write->req, asStream(&tcp_), bufs.data(), static_cast<unsigned>(bufs.size()), onWrite) != 0) {
    delete write;
    fail("write failed");
  }
}

void PlainLink::onWrite(uv_write_t* req, int) {
  // A failed write shows as a read error or as requests without answers: the run fails on those.
  delete static_cast<WriteRequest*>(req->data);
}

void PlainLink::fail(const char* error) {
  if (!error_) error_ = error;
  close();
}

void PlainLink::close() {
  closer_.close({asHandle(&tcp_), asHandle(&flush_idle_)}, [this] { handler_.onPlainClosed(*this); });
}

}  // namespace lbmail::perf
