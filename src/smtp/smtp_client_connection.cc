// The outgoing SMTP connection's state machine.
#include "lbmail/smtp/smtp_client_connection.h"

#include <algorithm>
#include <cassert>
#include <cctype>

#include "lbmail/smtp/dot_stuffing.h"

namespace lbmail::smtp {
namespace {

uv_handle_t* asHandle(void* h) { return static_cast<uv_handle_t*>(h); }

Duration since(uint64_t start_ns) { return Duration(uv_hrtime() - start_ns); }

std::string upperWord(std::string_view line) {
  std::string word;
  for (char c : line) {
    if (c == ' ') break;
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return word;
}

SmtpReply localReply(int code, const char* enhanced, const char* text) {
  SmtpReply r;
  r.code = code;
  r.enhanced = enhanced;
  r.text = text;
  return r;
}

}  // namespace

// One writev: command texts and body slices in order, gathered until flushed.
struct SmtpClientConnection::Write {
  uv_write_t req;
  SmtpClientConnection* connection = nullptr;
  std::deque<std::string> texts;
  std::vector<uv_buf_t> bufs;
  std::vector<std::shared_ptr<const void>> owners;  // the bodies' bytes, alive until the write completes
  bool carries_body = false;
};

ServerCapabilities parseCapabilities(const SmtpReply& ehlo) {
  ServerCapabilities caps;
  caps.esmtp = true;
  std::string_view text = ehlo.text;
  size_t nl = text.find('\n');
  // The first line names the server; keywords follow, one a line.
  while (nl != std::string_view::npos) {
    text.remove_prefix(nl + 1);
    nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    std::string word = upperWord(line);
    if (word == "PIPELINING") {
      caps.pipelining = true;
    } else if (word == "CHUNKING") {
      caps.chunking = true;
    } else if (word == "ENHANCEDSTATUSCODES") {
      caps.enhanced_status_codes = true;
    } else if (word == "SIZE") {
      caps.size_declared = true;
      uint64_t limit = 0;
      for (char c : line.substr(std::min(line.size(), size_t{5}))) {
        if (c < '0' || c > '9' || limit > UINT64_MAX / 10 - 10) break;
        limit = limit * 10 + static_cast<uint64_t>(c - '0');
      }
      caps.size_limit = limit;
    }
  }
  return caps;
}

const char* SmtpClientConnection::endName(End end) {
  switch (end) {
    case End::kQuit: return "quit";
    case End::kConnectFailed: return "connect_failed";
    case End::kGreetingFailed: return "greeting_failed";
    case End::kServiceClosing: return "service_closing";
    case End::kTimeout: return "timeout";
    case End::kProtocol: return "protocol_error";
    case End::kNetwork: return "network_error";
    case End::kAborted: return "aborted";
  }
  return "unknown";
}

SmtpClientConnection::SmtpClientConnection(uv_loop_t* loop, const SmtpClientSettings& settings, Handler& handler)
    : loop_(loop), settings_(settings), handler_(handler) {}

SmtpClientConnection::~SmtpClientConnection() { assert(handles_open_ == 0); }

void SmtpClientConnection::connect(const std::optional<SocketAddress>& source, const SocketAddress& destination) {
  destination_ = destination;
  connect_started_ = uv_hrtime();
  uv_tcp_init(loop_, &tcp_);
  uv_timer_init(loop_, &timer_);
  tcp_.data = this;
  timer_.data = this;
  handles_open_ = 2;
  int rc = 0;
  if (source) rc = uv_tcp_bind(&tcp_, source->sockaddrPtr(), 0);
  if (rc == 0) rc = uv_tcp_connect(&connect_req_, &tcp_, destination.sockaddrPtr(), onConnect);
  if (rc < 0) {
    // Reported from the loop, not from inside this call, so the caller's state stays simple.
    pending_end_ = End::kConnectFailed;
    pending_reason_ = std::string(source && rc != 0 ? "cannot bind or connect from " + source->host() : "cannot connect") +
                      ": " + uv_strerror(rc);
    armTimer(Duration(0));
    return;
  }
  armTimer(settings_.connect_timeout);
}

void SmtpClientConnection::onConnect(uv_connect_t* req, int status) {
  auto* self = static_cast<SmtpClientConnection*>(req->handle->data);
  if (self->state_ != State::kConnecting) return;
  if (status < 0) {
    self->fail(End::kConnectFailed, "connect to " + self->destination_.toString() + ": " + uv_strerror(status));
    return;
  }
  self->connected_at_ = uv_hrtime();
  self->connect_time_ = Duration(self->connected_at_ - self->connect_started_);
  uv_tcp_nodelay(&self->tcp_, 1);
  self->state_ = State::kGreeting;
  self->expected_.push_back(Expect::kGreeting);
  self->armTimer(self->settings_.greeting_timeout);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), onAlloc, onRead);
}

void SmtpClientConnection::onAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<SmtpClientConnection*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
}

void SmtpClientConnection::onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<SmtpClientConnection*>(stream->data);
  if (nread < 0) {
    if (self->state_ == State::kQuitting) {
      self->closeHandles();
    } else {
      self->fail(End::kNetwork, nread == UV_EOF ? "connection closed by the server" : uv_strerror(static_cast<int>(nread)));
    }
    return;
  }
  std::string_view in(buf->base, static_cast<size_t>(nread));
  while (!in.empty() && self->state_ < State::kClosing) {
    SmtpReplyParser::Status status = self->parser_.parse(in);
    if (status == SmtpReplyParser::Status::kNeedMore) break;
    if (status == SmtpReplyParser::Status::kError) {
      self->fail(End::kProtocol, "malformed reply: " + self->parser_.error());
      return;
    }
    self->onReply(self->parser_.reply());
  }
}

void SmtpClientConnection::onReply(SmtpReply& reply) {
  if (expected_.empty()) {
    // A server may announce 421 at any time before closing (RFC 5321 section 3.8).
    fail(reply.code == 421 ? End::kServiceClosing : End::kProtocol, "reply nobody asked for: " + reply.summary());
    return;
  }
  Expect expect = expected_.front();
  expected_.pop_front();
  switch (expect) {
    case Expect::kGreeting:
    case Expect::kEhlo:
    case Expect::kHelo:
      onHelloReply(expect, reply);
      return;
    case Expect::kQuit:
      closeHandles();
      return;
    default:
      onTransactionReply(expect, reply);
  }
}

void SmtpClientConnection::onHelloReply(Expect expect, SmtpReply& reply) {
  if (expect == Expect::kGreeting) {
    greeting_time_ = since(connected_at_);
    greeting_ = reply;
    if (!reply.positive()) {
      fail(End::kGreetingFailed, "greeting: " + reply.summary());
      return;
    }
    state_ = State::kHello;
    sendCommand("EHLO " + settings_.helo_name + "\r\n", Expect::kEhlo);
    return;
  }
  if (reply.positive()) {
    if (expect == Expect::kEhlo) caps_ = parseCapabilities(reply);
    becomeReady();
    return;
  }
  // 421 to EHLO ends the session at its start, like a 421 greeting (RFC 5321 section 3.8).
  if (expect == Expect::kEhlo && reply.code != 421) {
    sendCommand("HELO " + settings_.helo_name + "\r\n", Expect::kHelo);
    return;
  }
  fail(End::kGreetingFailed, (expect == Expect::kEhlo ? "EHLO: " : "HELO: ") + reply.summary());
}

void SmtpClientConnection::becomeReady() {
  state_ = State::kReady;
  armTimer(settings_.idle_timeout);
  handler_.onConnectionReady(*this);
}

bool SmtpClientConnection::pipelining() const { return settings_.pipelining && caps_.pipelining; }

bool SmtpClientConnection::acceptsMore() const {
  if (state_ == State::kReady) return true;
  // Transactions follow each other without waiting for replies: with BDAT at once, with DATA
  // each group right after the previous message's end-of-data marker (RFC 2920 section 3.1).
  // A transaction refused locally at the front has no replies coming; nothing may queue
  // behind it until it has been reported, or the next one's replies would land on it.
  return state_ == State::kBusy && pipelining() && !txs_.empty() && txs_.front().unsent.empty() &&
         !txs_.front().decided_locally && txs_.size() < settings_.max_pipelined_transactions;
}

void SmtpClientConnection::send(const OutgoingMessage& message, TransactionDone done) {
  assert(acceptsMore());
  state_ = State::kBusy;
  Transaction& tx = txs_.emplace_back();
  tx.message = &message;
  tx.done = std::move(done);
  tx.started = uv_hrtime();
  tx.rcpt_replies.resize(message.recipients.size());
  tx.result.mx_address = destination_;
  tx.result.connection_reused = completed_ > 0;
  tx.result.timings.connect = connect_time_;
  tx.result.timings.greeting = greeting_time_;

  // Decided here without a word to the server; reported from the loop, not from this call.
  bool safe = safeSmtpPath(message.mail_from) && !message.recipients.empty();
  for (const std::string& r : message.recipients) safe = safe && !r.empty() && safeSmtpPath(r);
  size_t size = message.bodySize();
  if (!safe || (caps_.size_limit > 0 && size > caps_.size_limit)) {
    tx.mail_failed = true;
    tx.mail_reply = safe ? localReply(552, "5.3.4", "message larger than the server's SIZE limit")
                         : localReply(553, "5.1.3", "address unsafe for an SMTP command");
    tx.decided_locally = true;
    if (txs_.size() == 1) armTimer(Duration(0));
    return;
  }

  std::vector<Command> commands;
  if (transactions_ > 0) commands.push_back({"RSET\r\n", Expect::kRset});
  std::string mail = "MAIL FROM:<" + message.mail_from + ">";
  if (caps_.size_limit > 0 || caps_.size_declared) mail += " SIZE=" + std::to_string(size);
  commands.push_back({mail + "\r\n", Expect::kMail});
  for (const std::string& r : message.recipients) commands.push_back({"RCPT TO:<" + r + ">\r\n", Expect::kRcpt});
  bool bdat = settings_.chunking && caps_.chunking;
  if (bdat) {
    commands.push_back({"BDAT " + std::to_string(size) + " LAST\r\n", Expect::kBdat});
  } else {
    commands.push_back({"DATA\r\n", Expect::kData});
  }
  ++transactions_;

  if (pipelining()) {
    // RFC 2920: the whole group in one write (and with BDAT the body too: one round trip).
    for (Command& c : commands) {
      tx.group += c.text;
      tx.group_expects.push_back(c.expect);
    }
    // A DATA group waits until the message before it has had its 354 and gone out.
    bool waits = !bdat && txs_.size() > 1 && !txs_[txs_.size() - 2].content_sent;
    if (!waits) releaseGroup(tx, false);
    if (!corked_) flush();
  } else {
    tx.unsent = std::move(commands);
    std::reverse(tx.unsent.begin(), tx.unsent.end());  // popped from the back
    sendNextStep();
  }
  rearmForReply();
}

void SmtpClientConnection::releaseGroup(Transaction& tx, bool after_end_of_data) {
  if (tx.group.empty()) return;
  // Right behind an end-of-data marker the server has cleared the transaction whatever it
  // answers (RFC 5321 section 4.1.1.4), so the RSET would only cost the receiver a reply.
  if (after_end_of_data && tx.group_expects.front() == Expect::kRset) {
    tx.group.erase(0, 6);
    tx.group_expects.erase(tx.group_expects.begin());
  }
  // BDAT carries the message as it is, right behind its command: no stuffing, no terminator.
  bool bdat = tx.group_expects.back() == Expect::kBdat;
  for (Expect e : tx.group_expects) expected_.push_back(e);
  tx.group_expects.clear();
  appendText(std::move(tx.group));
  tx.group.clear();
  if (bdat) appendBody(*tx.message);
}

void SmtpClientConnection::cork() { corked_ = true; }

void SmtpClientConnection::uncork() {
  corked_ = false;
  flush();
}

void SmtpClientConnection::sendNextStep() {
  Transaction& tx = txs_.front();
  Command c = std::move(tx.unsent.back());
  tx.unsent.pop_back();
  expected_.push_back(c.expect);
  appendText(std::move(c.text));
  // BDAT carries the message as it is: no stuffing, no terminator (RFC 3030).
  if (c.expect == Expect::kBdat) appendBody(*tx.message);
  flush();
}

void SmtpClientConnection::sendCommand(std::string text, Expect expect) {
  expected_.push_back(expect);
  appendText(std::move(text));
  flush();
  armTimer(timeoutFor(expect));
}

SmtpClientConnection::Write& SmtpClientConnection::openWrite() {
  if (!open_write_) {
    open_write_ = std::make_unique<Write>();
    open_write_->connection = this;
  }
  return *open_write_;
}

void SmtpClientConnection::appendText(std::string text) {
  Write& w = openWrite();
  // A deque never moves its elements, so buffers pointing into them stay valid.
  std::string& t = w.texts.emplace_back(std::move(text));
  w.bufs.push_back(uv_buf_init(t.data(), static_cast<unsigned>(t.size())));
}

void SmtpClientConnection::appendBody(const OutgoingMessage& message) {
  Write& w = openWrite();
  for (std::string_view s : message.body) {
    if (!s.empty()) w.bufs.push_back(uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size())));
  }
  if (message.owner) w.owners.push_back(message.owner);
  w.carries_body = true;
}

void SmtpClientConnection::appendDataContent(bool with_content) {
  static const std::vector<std::string_view> kNoBody;
  const OutgoingMessage& m = *txs_.front().message;
  Write& w = openWrite();
  smtp::appendDataContent(with_content ? m.body : kNoBody, !m.no_leading_dots, w.bufs);
  if (m.owner) w.owners.push_back(m.owner);
  w.carries_body = true;
}

void SmtpClientConnection::flush() {
  if (!open_write_) return;
  Write* w = open_write_.release();
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), w->bufs.data(),
                    static_cast<unsigned>(w->bufs.size()), onWrite);
  if (rc < 0) {
    delete w;
    pending_end_ = End::kNetwork;
    pending_reason_ = std::string("write: ") + uv_strerror(rc);
    armTimer(Duration(0));
    return;
  }
  ++writes_in_flight_;
  if (w->carries_body) ++body_writes_in_flight_;
}

void SmtpClientConnection::onWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<Write*>(req);
  SmtpClientConnection* self = w->connection;
  bool body = w->carries_body;
  delete w;
  --self->writes_in_flight_;
  if (body) --self->body_writes_in_flight_;
  if (status == UV_ECANCELED || self->state_ >= State::kClosing) return;
  if (status < 0) {
    self->fail(End::kNetwork, std::string("write: ") + uv_strerror(status));
    return;
  }
  if (body) self->rearmForReply();
}

void SmtpClientConnection::onTransactionReply(Expect expect, SmtpReply& reply) {
  Transaction& tx = txs_.front();
  if (reply.code == 421) {
    // The server is closing the channel (RFC 5321 section 3.8): the message is deferred.
    tx.failure_reply = reply;
    fail(End::kServiceClosing, reply.summary());
    return;
  }
  switch (expect) {
    case Expect::kRset:
      break;  // a refused RSET shows up in the MAIL reply that follows
    case Expect::kMail:
      tx.mail_reply = reply;
      tx.mail_failed = !reply.positive();
      break;
    case Expect::kRcpt:
      if (tx.next_rcpt < tx.rcpt_replies.size()) tx.rcpt_replies[tx.next_rcpt++] = std::move(reply);
      break;
    case Expect::kData:
      if (reply.positive()) {
        fail(End::kProtocol, "DATA answered with " + reply.summary() + " instead of 354");
        return;
      }
      if (reply.code != 354) {
        tx.final_reply = std::move(reply);
        finishTransaction();
        return;
      }
      // RFC 2920 section 3.1: DATA accepted although no recipient was: send a lone "." and
      // ignore the reply to it.
      tx.ignore_end_reply = !anyRecipientAccepted(tx);
      expected_.push_back(Expect::kDataEnd);
      appendDataContent(!tx.ignore_end_reply);
      tx.content_sent = true;
      // The next transaction's group rides behind the end-of-data marker.
      if (txs_.size() > 1) releaseGroup(txs_[1], true);
      flush();
      break;
    case Expect::kDataEnd:
    case Expect::kBdat:
      if (!tx.ignore_end_reply) tx.final_reply = std::move(reply);
      finishTransaction();
      return;
    default:
      fail(End::kProtocol, "reply out of order");
      return;
  }
  if (!tx.unsent.empty()) {
    // Lock-step: stop early when MAIL failed or every RCPT did, so no DATA goes out.
    bool data_next = tx.unsent.back().expect == Expect::kData || tx.unsent.back().expect == Expect::kBdat;
    if (tx.mail_failed || (data_next && !anyRecipientAccepted(tx))) {
      tx.unsent.clear();
      finishTransaction();
      return;
    }
    sendNextStep();
  }
  rearmForReply();
}

bool SmtpClientConnection::anyRecipientAccepted(const Transaction& tx) const {
  if (tx.mail_failed) return false;
  return std::any_of(tx.rcpt_replies.begin(), tx.rcpt_replies.end(), [](const SmtpReply& r) { return r.positive(); });
}

bool SmtpClientConnection::writeQueueShrank() {
  size_t now = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
  bool shrank = now < write_queue_at_arm_;
  write_queue_at_arm_ = now;
  return shrank;
}

void SmtpClientConnection::rearmForReply() {
  if (state_ != State::kBusy) return;
  if (body_writes_in_flight_ > 0) {
    write_queue_at_arm_ = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
    armTimer(settings_.data_block_timeout);
  } else if (!expected_.empty()) {
    armTimer(timeoutFor(expected_.front()));
  }
}

Duration SmtpClientConnection::timeoutFor(Expect expect) const {
  switch (expect) {
    case Expect::kGreeting: return settings_.greeting_timeout;
    case Expect::kRcpt: return settings_.rcpt_timeout;
    case Expect::kData: return settings_.data_init_timeout;
    case Expect::kDataEnd:
    case Expect::kBdat: return settings_.data_end_timeout;
    case Expect::kQuit: return std::min<Duration>(settings_.mail_timeout, std::chrono::seconds(10));
    default: return settings_.mail_timeout;
  }
}

// Each recipient's fate: a failed MAIL decides them all; a refused RCPT decides its own; the
// rest share the final reply, or the failure that cut the transaction short.
void SmtpClientConnection::decideRecipients(Transaction& tx, const std::string& failure) {
  DeliveryResult& result = tx.result;
  const SmtpReply* decisive = nullptr;
  result.recipients.resize(tx.rcpt_replies.size());
  for (size_t i = 0; i < tx.rcpt_replies.size(); ++i) {
    RecipientResult& r = result.recipients[i];
    const SmtpReply* by = nullptr;
    if (tx.mail_failed) {
      by = &tx.mail_reply;
    } else if (tx.rcpt_replies[i].code != 0 && !tx.rcpt_replies[i].positive()) {
      by = &tx.rcpt_replies[i];
    } else if (tx.final_reply.code != 0) {
      by = &tx.final_reply;
    } else if (tx.failure_reply.code != 0) {
      by = &tx.failure_reply;
    }
    if (by) {
      r.reply = *by;
      r.outcome = outcomeOf(*by);
    } else {
      r.outcome = DeliveryOutcome::kDeferred;  // cut short by the network: try again later
    }
    if (!decisive || (by && decisive->positive() && !by->positive())) decisive = by;
  }
  result.outcome = combineOutcomes(result.recipients);
  if (decisive) result.reply = *decisive;
  if (decisive && !decisive->positive()) {
    result.reason = decisive->summary();
  } else {
    result.reason = !failure.empty() ? failure : decisive ? decisive->summary() : std::string();
  }
  result.timings.transaction = since(tx.started);
}

// Reports the front transaction, then any refused locally behind it; ready when none is left.
void SmtpClientConnection::finishTransaction() {
  do {
    Transaction& tx = txs_.front();
    decideRecipients(tx, {});
    TransactionDone done = std::move(tx.done);
    DeliveryResult result = std::move(tx.result);
    txs_.pop_front();
    ++completed_;
    done(std::move(result));
    if (state_ != State::kBusy) return;  // closed by the callback
  } while (!txs_.empty() && txs_.front().decided_locally);
  if (txs_.empty()) {
    becomeReady();
    return;
  }
  // A group still held (its predecessor's DATA was refused, so no 354 released it) goes now.
  if (!txs_.front().group.empty()) {
    releaseGroup(txs_.front(), false);
    flush();
  }
  rearmForReply();
}

void SmtpClientConnection::onTimer(uv_timer_t* timer) {
  auto* self = static_cast<SmtpClientConnection*>(timer->data);
  if (self->pending_end_) {
    End end = *self->pending_end_;
    self->pending_end_.reset();
    self->fail(end, self->pending_reason_);
    return;
  }
  switch (self->state_) {
    case State::kConnecting:
      self->fail(End::kConnectFailed, "connect to " + self->destination_.toString() + ": timed out");
      return;
    case State::kGreeting:
    case State::kHello:
      self->fail(End::kGreetingFailed, self->state_ == State::kGreeting ? "timed out waiting for the greeting"
                                                                        : "timed out waiting for the EHLO/HELO reply");
      return;
    case State::kReady:
      self->quit();
      return;
    case State::kBusy:
      if (!self->txs_.empty() && self->txs_.front().decided_locally) {
        self->finishTransaction();
        return;
      }
      if (self->body_writes_in_flight_ > 0 && self->writeQueueShrank()) {
        // The data-block timeout is per block (RFC 5321 section 4.5.3.2.5): a slow link that
        // still takes bytes is given another period.
        self->armTimer(self->settings_.data_block_timeout);
        return;
      }
      self->fail(End::kTimeout, "timed out waiting for a reply");
      return;
    case State::kQuitting:
      self->closeHandles();
      return;
    default:
      return;
  }
}

void SmtpClientConnection::quit() {
  if (state_ == State::kReady) {
    state_ = State::kQuitting;
    end_ = End::kQuit;
    sendCommand("QUIT\r\n", Expect::kQuit);
    return;
  }
  if (state_ < State::kQuitting) abort("closed before the session was ready");
}

void SmtpClientConnection::abort(std::string_view reason) { fail(End::kAborted, std::string(reason)); }

void SmtpClientConnection::fail(End end, std::string reason) {
  if (state_ >= State::kClosing) return;
  end_ = end;
  end_reason_ = reason;
  // Every transaction in flight ends here, in order; the handles close first so that no
  // callback can write to this connection again.
  std::deque<Transaction> txs;
  txs.swap(txs_);
  closeHandles();
  for (Transaction& tx : txs) {
    decideRecipients(tx, reason);
    tx.done(std::move(tx.result));
  }
}

void SmtpClientConnection::closeHandles() {
  if (state_ >= State::kClosing) return;
  state_ = State::kClosing;
  uv_close(asHandle(&tcp_), onClosed);
  uv_close(asHandle(&timer_), onClosed);
}

void SmtpClientConnection::armTimer(Duration timeout) {
  if (pending_end_) timeout = Duration(0);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  uv_timer_start(&timer_, onTimer, static_cast<uint64_t>(ms), 0);
}

void SmtpClientConnection::onClosed(uv_handle_t* handle) {
  auto* self = static_cast<SmtpClientConnection*>(handle->data);
  if (--self->handles_open_ > 0) return;
  self->state_ = State::kClosed;
  self->handler_.onConnectionClosed(*self, self->end_, self->end_reason_);  // may delete self
}

}  // namespace lbmail::smtp
