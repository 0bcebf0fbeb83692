// A sink connection: SMTP with the rules' latency, failures and limits applied.
#include "sink_session.h"

#include <openssl/err.h>

#include <chrono>

#include "lbmail/core/log.h"
#include "sink_tls_context.h"

namespace lbmail {
namespace {

// Stop reading while this much is queued for a client that does not read its replies (a
// pipelined NOOP flood), resume below the low-water mark.
constexpr size_t kWriteHighWater = 64 * 1024;
constexpr size_t kWriteLowWater = 16 * 1024;

std::string_view domainOf(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

smtp::SmtpServerProtocol::Limits protocolLimits(const SinkSettings& s) {
  smtp::SmtpServerProtocol::Limits l;
  l.max_message_size = s.max_message_size;
  l.max_recipients = s.max_recipients;
  return l;
}

}  // namespace

SinkSession::SinkSession(SinkSessionOwner& sink, uint64_t seed)
    : sink_(sink), rng_(seed), protocol_(sink.settings().hostname, protocolLimits(sink.settings()), *this) {
  protocol_.offerStartTls(sink.tlsContext() != nullptr);
}

void SinkSession::start(uv_stream_t* listener, Handle self) {
  self_ = self;
  uv_tcp_init(sink_.loop(), &tcp_);
  uv_timer_init(sink_.loop(), &delay_timer_);
  uv_timer_init(sink_.loop(), &idle_timer_);
  tcp_.data = this;
  delay_timer_.data = this;
  idle_timer_.data = this;
  if (uv_accept(listener, asStream(&tcp_)) != 0) {
    close();
    return;
  }
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len);
  client_host_ = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).host();
  uv_tcp_nodelay(&tcp_, 1);
  armIdle();
}

void SinkSession::greet() { respond({protocol_.greeting()}); }

void SinkSession::refuse(std::string_view text) {
  // RFC 5321 §3.1: a server may answer the connection with 421 instead of 220.
  smtp::ServerReply r;
  r.code = 421;
  r.text = "421 4.7.0 " + std::string(text) + "\r\n";
  r.close_after = true;
  delayed_.clear();
  uv_timer_stop(&delay_timer_);
  writeNow({r});
}

void SinkSession::close() {
  if (!closer_.started()) {
    sink_.bufferedChanged(-static_cast<int64_t>(accounted_));
    accounted_ = 0;
  }
  closer_.close({asHandle(&tcp_), asHandle(&delay_timer_), asHandle(&idle_timer_)},
                [this] { sink_.sessionClosed(*this); });  // deletes this
}

const SinkRule& SinkSession::rule(std::string_view domain) const {
  return sink_.rule(client_host_, domain);
}

bool SinkSession::roll(double probability) {
  return probability > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < probability;
}

void SinkSession::armIdle() {
  Duration limit = protocol_.inData() ? sink_.settings().data_timeout : sink_.settings().command_timeout;
  uv_timer_start(&idle_timer_, onIdle, toMillis(limit), 0);
}

void SinkSession::onIdle(uv_timer_t* timer) {
  auto* self = static_cast<SinkSession*>(timer->data);
  if (self->tls_ && !self->tls_up_) {
    // A client that asked for TLS and stalls in the handshake cannot read a 421 either.
    self->sink_.tlsHandshakeDone(false);
    logWarn("sink.tls_failed", {{"client", self->client_host_}, {"error", "TLS handshake timed out"}});
    self->close();
    return;
  }
  smtp::ServerReply r;
  r.code = 421;
  r.text = "421 4.4.2 " + self->sink_.settings().hostname + " Timeout, closing connection\r\n";
  r.close_after = true;
  self->writeNow({r});
}

void SinkSession::respond(std::vector<smtp::ServerReply> replies) {
  if (replies.empty() || closer_.started()) return;
  // The batch waits for the latency of its weightiest reply: end of data, then greeting, then
  // plain command replies. The domain is the transaction's first recipient's, once known.
  const SinkRule& r = rule(first_domain_);
  const LatencySpec* latency = &r.reply_latency;
  for (const smtp::ServerReply& reply : replies) {
    if (reply.kind == smtp::ServerReply::Kind::kEndOfData) latency = &r.data_latency;
    if (reply.kind == smtp::ServerReply::Kind::kGreeting && latency != &r.data_latency) {
      latency = &rule("").greeting_latency;
    }
  }
  Duration delay = latency->draw(rng_);
  if (delay.count() == 0) {
    writeNow(std::move(replies));
    return;
  }
  // Replies stay in order: nothing more is read until this batch has gone out.
  delayed_ = std::move(replies);
  updateReading();
  // The loop's clock was read before this turn's callbacks: refresh it so the delay counts
  // from now, not from the start of the turn.
  uv_update_time(sink_.loop());
  uint64_t ms = toMillis(delay);
  uv_timer_start(&delay_timer_, onDelay, ms == 0 ? 1 : ms, 0);
}

void SinkSession::onDelay(uv_timer_t* timer) {
  auto* self = static_cast<SinkSession*>(timer->data);
  std::vector<smtp::ServerReply> batch;
  batch.swap(self->delayed_);
  self->writeNow(std::move(batch));
}

void SinkSession::writeNow(std::vector<smtp::ServerReply> replies) {
  if (closer_.started() || replies.empty()) return;
  size_t size = 0;
  for (const smtp::ServerReply& r : replies) size += r.text.size();
  std::string text;
  text.reserve(size);
  bool start_tls = false;
  for (const smtp::ServerReply& r : replies) {
    if (r.close_after) close_after_write_ = true;
    start_tls = start_tls || r.start_tls;
    text.append(r.text);
  }
  replies = {};
  if (tls_up_) return writeTls(text, close_after_write_);
  auto* w = new WriteRequest;
  w->session = this;
  w->text = std::move(text);
  uv_buf_t buf = uv_buf_init(w->text.data(), static_cast<unsigned>(w->text.size()));
  write(w, &buf, 1);
  if (start_tls && !closer_.started()) beginTls();
}

void SinkSession::write(WriteRequest* w, const uv_buf_t* bufs, unsigned count) {
  w->req.data = w;
  if (uv_write(&w->req, asStream(&tcp_), bufs, count, onWrite) != 0) {
    delete w;
    close();
    return;
  }
  ++writes_in_flight_;
  updateReading();
}

void SinkSession::updateReading() {
  if (closer_.started()) return;
  size_t queued = uv_stream_get_write_queue_size(asStream(&tcp_));
  bool want = !close_after_write_ && delayed_.empty() && queued <= (reading_ ? kWriteHighWater : kWriteLowWater);
  if (want && !reading_) {
    reading_ = uv_read_start(asStream(&tcp_), onAlloc, onRead) == 0;
  } else if (!want && reading_) {
    uv_read_stop(asStream(&tcp_));
    reading_ = false;
  }
  accountBuffers();
  // Commands may already be decrypted and waiting in the TLS session: no read brings them.
  if (reading_) drainTls();
}

void SinkSession::accountBuffers() {
  size_t now = uv_stream_get_write_queue_size(asStream(&tcp_)) + protocol_.bufferedBytes();
  sink_.bufferedChanged(static_cast<int64_t>(now) - static_cast<int64_t>(accounted_));
  accounted_ = now;
}

void SinkSession::onWrite(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> w(static_cast<WriteRequest*>(req->data));
  SinkSession* self = w->session;
  --self->writes_in_flight_;
  if (self->closer_.started()) return;
  if (status < 0 || (self->close_after_write_ && self->writes_in_flight_ == 0)) {
    self->close();
    return;
  }
  self->updateReading();
}

void SinkSession::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = static_cast<SinkSession*>(handle->data)->sink_.readBuffer();
}

void SinkSession::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<SinkSession*>(stream->data);
  if (nread == 0 || self->closer_.started()) return;
  if (nread < 0) {
    self->close();
    return;
  }
  if (self->close_after_write_) return;  // QUIT or 421 given: the rest is not read
  std::string_view bytes(buf->base, static_cast<size_t>(nread));
  if (self->tls_) {
    self->receivedTls(bytes);
  } else {
    self->received(bytes);
  }
}

void SinkSession::received(std::string_view bytes) {
  if (protocol_.inData() && !data_rolled_) {
    data_rolled_ = true;
    if (roll(rule(first_domain_).drop_in_data)) {
      // A receiver that vanishes mid-message: no reply at all.
      sink_.count(client_host_, first_domain_, "dropped");
      close();
      return;
    }
  }
  std::vector<smtp::ServerReply> replies;
  protocol_.feed(bytes, replies);
  if (protocol_.awaitingTls() && protocol_.bytesDiscardedBeforeTls() > 0) {
    // RFC 3207 section 4.2 leaves nothing sent before TLS to act on after it (CVE-2011-0411).
    logWarn("sink.pipelined_after_starttls", {{"client", client_host_}, {"bytes", protocol_.bytesDiscardedBeforeTls()}});
  }
  armIdle();
  if (replies.empty()) {
    accountBuffers();
  } else {
    respond(std::move(replies));
  }
}

void SinkSession::beginTls() { tls_ = sink_.tlsContext()->newSession(); }

void SinkSession::receivedTls(std::string_view ciphertext) {
  tls_->feed(reinterpret_cast<const uint8_t*>(ciphertext.data()), ciphertext.size());
  armIdle();
  if (!tls_up_) {
    tls::TlsSession::Status status = tls_->handshake();
    if (status == tls::TlsSession::Status::kError) return tlsFailed(tls_->error());
    writeTls({}, false);  // the handshake's next flight
    if (status != tls::TlsSession::Status::kOk || closer_.started()) return;
    finishHandshake();
  }
  drainTls();
}

void SinkSession::finishHandshake() {
  tls_up_ = true;
  tls_version_ = SSL_get_version(tls_->ssl());
  tls_cipher_ = SSL_get_cipher_name(tls_->ssl());
  protocol_.tlsEstablished();
  sink_.tlsHandshakeDone(true);
}

void SinkSession::tlsFailed(const std::string& reason) {
  sink_.tlsHandshakeDone(false);
  logWarn("sink.tls_failed", {{"client", client_host_}, {"error", reason}});
  // The alert OpenSSL queued, if any, tells the client why; then the connection closes.
  close_after_write_ = true;
  writeTls({}, false);
  if (writes_in_flight_ == 0) close();
}

void SinkSession::drainTls() {
  if (draining_ || !tls_up_) return;
  draining_ = true;
  // reading_ turns false while a batch waits for its latency or the client does not read its
  // replies: the rest stays in the session until then, as unread bytes stay in the socket.
  while (reading_ && !closer_.started()) {
    uv_buf_t buf = sink_.readBuffer();
    size_t got = 0;
    tls::TlsSession::Status status = tls_->read(reinterpret_cast<uint8_t*>(buf.base), buf.len, &got);
    if (status == tls::TlsSession::Status::kOk) {
      received(std::string_view(buf.base, got));
      continue;
    }
    if (status == tls::TlsSession::Status::kError) logWarn("sink.tls_failed", {{"client", client_host_}, {"error", tls_->error()}});
    if (status != tls::TlsSession::Status::kWantInput) close();
    break;
  }
  // Reading can make records to send as well (a TLS 1.3 KeyUpdate answered, RFC 8446 4.6.3).
  if (!closer_.started() && tls_->pendingOutput() > 0) writeTls({}, false);
  draining_ = false;
}

void SinkSession::writeTls(std::string_view text, bool close_notify) {
  if (!tls_->write(reinterpret_cast<const uint8_t*>(text.data()), text.size())) {
    logWarn("sink.tls_failed", {{"client", client_host_}, {"error", tls_->error()}});
    close();
    return;
  }
  if (close_notify) {
    SSL_shutdown(tls_->ssl());  // close_notify (RFC 8446 section 6.1) goes out with the last reply
    ERR_clear_error();
  }
  if (tls_->pendingOutput() == 0) return;
  auto* w = new WriteRequest;
  w->session = this;
  tls_->takeOutput(w->records);
  std::vector<uv_buf_t> bufs = w->records.uvBufs();
  write(w, bufs.data(), static_cast<unsigned>(bufs.size()));
}

smtp::SmtpServerProtocol::Decision SinkSession::onMail(std::string_view) {
  const SinkRule& r = rule("");
  if (r.max_messages_per_connection > 0 && messages_ >= r.max_messages_per_connection) {
    sink_.limited(client_host_, 421);
    return {421, "4.7.0", sink_.settings().hostname + " Too many messages on this connection"};
  }
  if (!sink_.admitMessage(client_host_, r.max_message_rate)) {
    // A 421 closes the connection (RFC 5321 section 3.8); a 450 or 451 leaves it open.
    SinkReply reply = r.rate_reply.value_or(
        SinkReply{421, "4.7.0", sink_.settings().hostname + " Message rate limit exceeded, try again later"});
    sink_.limited(client_host_, reply.code);
    return {reply.code, reply.enhanced, reply.text};
  }
  first_domain_.clear();
  data_rolled_ = false;
  return {250, "2.1.0", "Ok"};
}

smtp::SmtpServerProtocol::Decision SinkSession::onRecipient(std::string_view address) {
  std::string_view domain = domainOf(address);
  const SinkRule& r = rule(domain);
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (u < r.defer_rcpt) {
    sink_.count(client_host_, domain, "deferred");
    return {450, "4.2.1", "Mailbox temporarily unavailable, try again later"};
  }
  if (u < r.defer_rcpt + r.bounce_rcpt) {
    sink_.count(client_host_, domain, "bounced");
    sink_.refused(client_host_, address, r.bounce_reply);
    return {r.bounce_reply.code, r.bounce_reply.enhanced, r.bounce_reply.text};
  }
  if (first_domain_.empty()) first_domain_ = std::string(domain);
  return {250, "2.1.5", "Ok"};
}

smtp::SmtpServerProtocol::Decision SinkSession::onMessage(const smtp::ReceivedMessage& m) {
  const SinkRule& r = rule(first_domain_);
  double u = std::uniform_real_distribution<double>(0, 1)(rng_);
  // drop_in_data was drawn when the data began; the rest of the range splits as configured.
  std::string_view outcome = "accepted";
  smtp::SmtpServerProtocol::Decision d{250, "2.0.0", ""};
  if (u < r.defer_data) {
    outcome = "deferred";
    d = {451, "4.3.0", "Temporary local problem, try again later"};
  } else if (u < r.defer_data + r.bounce_data) {
    outcome = "bounced";
    d = {554, "5.7.1", "Message rejected: content policy"};
  }
  for (const std::string& rcpt : *m.recipients) sink_.count(client_host_, domainOf(rcpt), outcome);
  data_rolled_ = false;
  if (d.code != 250) return d;
  ++messages_;
  uint64_t number = sink_.recordMessage(m, {client_host_, tls_version_, tls_cipher_});
  d.text = "Ok: queued as " + std::to_string(number);
  return d;
}

bool SinkSession::keepBodies() const { return sink_.keepsBodies(); }

}  // namespace lbmail
