// A feedback SMTP connection: bytes in, replies out, the intake's decisions in between.
#include "feedback_session.h"

#include "feedback_listener.h"
#include "lbmail/core/log.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"

namespace lbmail {
namespace {

// Stop reading while this much is queued for a peer that does not read its replies.
constexpr size_t kWriteHighWater = 64 * 1024;

smtp::SmtpServerProtocol::Limits protocolLimits(const FeedbackSettings& s) {
  smtp::SmtpServerProtocol::Limits l;
  l.max_message_size = s.max_message_size;
  l.max_recipients = 100;  // RFC 5321 section 4.5.3.1.8's minimum; a report names one or two
  return l;
}

}  // namespace

FeedbackSession::FeedbackSession(FeedbackListener& listener)
    : listener_(listener),
      intake_(listener.intakeSettings(), [&listener](const FeedbackTokenKey& k) { return listener.used(k); }),
      protocol_(listener.settings().hostname, protocolLimits(listener.settings()), *this) {}

bool FeedbackSession::start(uv_stream_t* server, Handle self) {
  self_ = self;
  uv_tcp_init(listener_.loop(), &tcp_);
  uv_timer_init(listener_.loop(), &idle_timer_);
  tcp_.data = this;
  idle_timer_.data = this;
  if (uv_accept(server, asStream(&tcp_)) != 0) {
    close();
    return false;
  }
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len);
  client_ = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).host();
  armIdle();
  return true;
}

void FeedbackSession::greet() {
  write({protocol_.greeting()});
  updateReading();
}

void FeedbackSession::refuse(std::string_view text) {
  smtp::ServerReply r;
  r.code = 421;
  r.text = "421 4.3.2 " + std::string(text) + "\r\n";
  r.close_after = true;
  write({r});
}

void FeedbackSession::close() {
  if (closer_.started()) return;
  releaseBody(reserved_);
  closer_.close({asHandle(&tcp_), asHandle(&idle_timer_)}, [this] { listener_.sessionClosed(*this); });
}

void FeedbackSession::armIdle() {
  uv_timer_start(&idle_timer_, onIdle, toMillis(listener_.settings().idle_timeout), 0);
}

void FeedbackSession::onIdle(uv_timer_t* timer) {
  auto* self = static_cast<FeedbackSession*>(timer->data);
  // A peer that does not read either would leave the 421 in the queue: close after the bound.
  if (self->close_after_write_) return self->close();
  smtp::ServerReply r;
  r.code = 421;
  r.text = "421 4.4.2 " + self->listener_.settings().hostname + " Timeout, closing connection\r\n";
  r.close_after = true;
  self->write({r});
  self->armIdle();
}

void FeedbackSession::write(std::vector<smtp::ServerReply> replies) {
  if (closer_.started() || replies.empty()) return;
  auto* w = new WriteRequest;
  w->session = this;
  for (const smtp::ServerReply& r : replies) {
    close_after_write_ = close_after_write_ || r.close_after;
    w->text += r.text;
  }
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->text.data(), static_cast<unsigned>(w->text.size()));
  if (uv_write(&w->req, asStream(&tcp_), &buf, 1, onWrite) != 0) {
    delete w;
    close();
    return;
  }
  ++writes_in_flight_;
  updateReading();
}

void FeedbackSession::updateReading() {
  if (closer_.started()) return;
  bool want = !close_after_write_ && uv_stream_get_write_queue_size(asStream(&tcp_)) <= kWriteHighWater;
  if (want && !reading_) {
    reading_ = uv_read_start(asStream(&tcp_), onAlloc, onRead) == 0;
  } else if (!want && reading_) {
    uv_read_stop(asStream(&tcp_));
    reading_ = false;
  }
}

void FeedbackSession::onWrite(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> w(static_cast<WriteRequest*>(req->data));
  FeedbackSession* self = w->session;
  --self->writes_in_flight_;
  if (self->closer_.started()) return;
  if (status < 0 || (self->close_after_write_ && self->writes_in_flight_ == 0)) return self->close();
  self->updateReading();
}

void FeedbackSession::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = static_cast<FeedbackSession*>(handle->data)->listener_.readBuffer();
}

void FeedbackSession::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<FeedbackSession*>(stream->data);
  if (nread == 0 || self->closer_.started()) return;
  if (nread < 0) return self->close();
  if (self->close_after_write_) return;
  std::vector<smtp::ServerReply> replies;
  self->protocol_.feed(std::string_view(buf->base, static_cast<size_t>(nread)), replies);
  if (self->closer_.started()) return;
  self->armIdle();
  self->write(std::move(replies));
}

bool FeedbackSession::reserveBody(size_t bytes) {
  if (!listener_.reserveBody(bytes)) return false;
  reserved_ += bytes;
  return true;
}

void FeedbackSession::releaseBody(size_t bytes) {
  bytes = std::min(bytes, reserved_);
  reserved_ -= bytes;
  listener_.releaseBody(bytes);
}

smtp::SmtpServerProtocol::Decision FeedbackSession::onMail(std::string_view) {
  intake_.reset();
  return {250, "2.1.0", "Ok"};
}

smtp::SmtpServerProtocol::Decision FeedbackSession::onRecipient(std::string_view address) {
  FeedbackIntake::Decision d = intake_.recipient(address, unixNowMs());
  if (!d.refusal.empty()) {
    listener_.countRefusal(d.refusal);
    logInfo("gateway.feedback_refused", {{"client", client_}, {"recipient", address}, {"reason", d.refusal}});
  }
  return {d.code, d.enhanced, d.text};
}

smtp::SmtpServerProtocol::Decision FeedbackSession::onMessage(const smtp::ReceivedMessage& m) {
  FeedbackIntake::Result result = intake_.message(m.body, unixNowMs());
  return listener_.take(result, client_);
}

}  // namespace lbmail
