// The SMTP client's state machine: which command follows which reply, and what each reply means.
#include "lbmail/smtp/smtp_client_protocol.h"

#include <algorithm>
#include <cassert>

#include "lbmail/smtp/dot_stuffing.h"

namespace lbmail::smtp {
namespace {

SmtpReply localReply(int code, const char* enhanced, const char* text) {
  SmtpReply r;
  r.code = code;
  r.enhanced = enhanced;
  r.text = text;
  return r;
}

}  // namespace

const char* SmtpClientProtocol::endName(End end) {
  switch (end) {
    case End::kQuit: return "quit";
    case End::kConnectFailed: return "connect_failed";
    case End::kGreetingFailed: return "greeting_failed";
    case End::kServiceClosing: return "service_closing";
    case End::kTimeout: return "timeout";
    case End::kProtocol: return "protocol_error";
    case End::kNetwork: return "network_error";
    case End::kAborted: return "aborted";
    case End::kTlsFailed: return "tls_failed";
    case End::kTlsUnavailable: return "tls_unavailable";
  }
  return "unknown";
}

SmtpClientProtocol::SmtpClientProtocol(const SmtpClientSettings& settings, Transport& transport)
    : settings_(settings), transport_(transport) {}

TimeoutPhase SmtpClientProtocol::phaseOf(Expect expect) {
  switch (expect) {
    case Expect::kGreeting: return TimeoutPhase::kGreeting;
    case Expect::kRcpt: return TimeoutPhase::kRcpt;
    case Expect::kData: return TimeoutPhase::kDataInit;
    case Expect::kDataEnd:
    case Expect::kBdat: return TimeoutPhase::kDataEnd;
    case Expect::kQuit: return TimeoutPhase::kQuit;
    default: return TimeoutPhase::kMail;
  }
}

void SmtpClientProtocol::start() {
  if (state_ != State::kConnecting) return;
  state_ = State::kGreeting;
  expected_.push_back(Expect::kGreeting);
  transport_.armTimer(TimeoutPhase::kGreeting);
}

void SmtpClientProtocol::receive(std::string_view in) {
  if (handshaking_ && !in.empty()) {
    fail(End::kProtocol, "plaintext read during the TLS handshake");  // the transport's bug
    return;
  }
  while (!in.empty() && state_ < State::kClosing) {
    SmtpReplyParser::Status status = parser_.parse(in);
    if (status == SmtpReplyParser::Status::kNeedMore) break;
    if (status == SmtpReplyParser::Status::kError) {
      fail(End::kProtocol, "malformed reply: " + parser_.error());
      return;
    }
    onReply(parser_.reply());
    if (tls_starting_) {
      startTlsNow(in);
      return;
    }
  }
}

void SmtpClientProtocol::onReply(SmtpReply& reply) {
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
    case Expect::kStartTls:
      onStartTlsReply(reply);
      return;
    case Expect::kQuit:
      closeQuietly();
      return;
    default:
      onTransactionReply(expect, reply);
  }
}

bool SmtpClientProtocol::pipelining() const { return settings_.pipelining && caps_.pipelining; }

bool SmtpClientProtocol::acceptsMore() const {
  if (state_ == State::kReady) return true;
  // Transactions follow each other without waiting for replies: each group right behind the
  // previous message's content (RFC 2920 section 3.1), which waits for its 354 (DATA) or for
  // its RCPT replies (BDAT).
  // A transaction refused locally at the front has no replies coming; nothing may queue
  // behind it until it has been reported, or the next one's replies would land on it.
  return state_ == State::kBusy && pipelining() && !txs_.empty() && txs_.front().unsent.empty() &&
         !txs_.front().decided_locally && txs_.size() < settings_.max_pipelined_transactions;
}

// Decided here without a word to the server: an address that could inject a command, or a
// message over the server's SIZE limit (RFC 1870).
bool SmtpClientProtocol::refusedLocally(Transaction& tx, const OutgoingMessage& message) {
  bool safe = safeSmtpPath(message.mail_from) && !message.recipients.empty();
  for (const std::string& r : message.recipients) safe = safe && !r.empty() && safeSmtpPath(r);
  if (safe && !(caps_.size_limit > 0 && message.bodySize() > caps_.size_limit)) return false;
  tx.replies.mail_failed = true;
  tx.replies.mail_reply = safe ? localReply(552, "5.3.4", "message larger than the server's SIZE limit")
                               : localReply(553, "5.1.3", "address unsafe for an SMTP command");
  tx.decided_locally = true;
  return true;
}

std::vector<SmtpClientProtocol::Command> SmtpClientProtocol::commandsFor(const OutgoingMessage& message,
                                                                         bool bdat) const {
  size_t size = message.bodySize();
  std::vector<Command> commands;
  if (transactions_ > 0) commands.push_back({"RSET\r\n", Expect::kRset});
  std::string mail = "MAIL FROM:<" + message.mail_from + ">";
  if (caps_.size_limit > 0 || caps_.size_declared) mail += " SIZE=" + std::to_string(size);
  commands.push_back({mail + "\r\n", Expect::kMail});
  for (const std::string& r : message.recipients) commands.push_back({"RCPT TO:<" + r + ">\r\n", Expect::kRcpt});
  if (bdat) {
    commands.push_back({"BDAT " + std::to_string(size) + " LAST\r\n", Expect::kBdat});
  } else {
    commands.push_back({"DATA\r\n", Expect::kData});
  }
  return commands;
}

void SmtpClientProtocol::send(const OutgoingMessage& message, TransactionDone done) {
  assert(acceptsMore());
  state_ = State::kBusy;
  Transaction& tx = txs_.emplace_back();
  tx.message = &message;
  tx.done = std::move(done);
  tx.replies.rcpt_replies.resize(message.recipients.size());
  if (refusedLocally(tx, message)) {
    // Reported from the loop, not from this call.
    if (txs_.size() == 1) transport_.armTimer(TimeoutPhase::kNow);
    return;
  }
  bool bdat = settings_.chunking && caps_.chunking;
  std::vector<Command> commands = commandsFor(message, bdat);
  ++transactions_;

  if (pipelining()) {
    // RFC 2920: the whole group in one write. BDAT would carry the body in it, before a
    // single RCPT reply: it waits for them instead, and rides with the next group.
    if (bdat) {
      tx.held_bdat = std::move(commands.back().text);
      commands.pop_back();
    }
    for (Command& c : commands) {
      tx.group += c.text;
      tx.group_expects.push_back(c.expect);
    }
    // A group waits until the message before it has gone out (after its 354 or RCPT replies).
    bool waits = txs_.size() > 1 && !txs_[txs_.size() - 2].content_sent;
    if (!waits) releaseGroup(tx, false);
    if (!corked_) flush();
  } else {
    tx.unsent = std::move(commands);
    std::reverse(tx.unsent.begin(), tx.unsent.end());  // popped from the back
    sendNextStep();
  }
  rearmForReply();
}

void SmtpClientProtocol::releaseGroup(Transaction& tx, bool after_end_of_data) {
  if (tx.group.empty()) return;
  // Right behind an end-of-data marker the server has cleared the transaction whatever it
  // answers (RFC 5321 section 4.1.1.4), so the RSET would only cost the receiver a reply.
  if (after_end_of_data && tx.group_expects.front() == Expect::kRset) {
    tx.group.erase(0, 6);
    tx.group_expects.erase(tx.group_expects.begin());
  }
  for (Expect e : tx.group_expects) expected_.push_back(e);
  tx.group_expects.clear();
  appendText(std::move(tx.group));
  tx.group.clear();
}

void SmtpClientProtocol::cork() { corked_ = true; }

void SmtpClientProtocol::uncork() {
  corked_ = false;
  flush();
}

void SmtpClientProtocol::sendNextStep() {
  Transaction& tx = txs_.front();
  Command c = std::move(tx.unsent.back());
  tx.unsent.pop_back();
  expected_.push_back(c.expect);
  appendText(std::move(c.text));
  // BDAT carries the message as it is: no stuffing, no terminator (RFC 3030).
  if (c.expect == Expect::kBdat) appendBody(*tx.message);
  flush();
}

void SmtpClientProtocol::sendCommand(std::string text, Expect expect) {
  expected_.push_back(expect);
  appendText(std::move(text));
  flush();
  transport_.armTimer(phaseOf(expect));
}

SmtpClientWrite& SmtpClientProtocol::openWrite() {
  if (!open_write_) open_write_ = std::make_unique<SmtpClientWrite>();
  return *open_write_;
}

void SmtpClientProtocol::appendText(std::string text) {
  SmtpClientWrite& w = openWrite();
  w.slices.push_back(w.texts.emplace_back(std::move(text)));
}

void SmtpClientProtocol::appendBody(const OutgoingMessage& message) {
  SmtpClientWrite& w = openWrite();
  for (std::string_view s : message.body) {
    if (!s.empty()) w.slices.push_back(s);
  }
  if (message.owner) w.owners.push_back(message.owner);
  w.carries_body = true;
}

void SmtpClientProtocol::appendDataContent(bool with_content) {
  static const std::vector<std::string_view> kNoBody;
  const OutgoingMessage& m = *txs_.front().message;
  SmtpClientWrite& w = openWrite();
  smtp::appendDataContent(with_content ? m.body : kNoBody, !m.no_leading_dots, w.slices);
  if (m.owner) w.owners.push_back(m.owner);
  w.carries_body = true;
}

void SmtpClientProtocol::flush() {
  if (!open_write_) return;
  if (open_write_->carries_body) ++body_writes_in_flight_;
  transport_.write(std::move(open_write_));
}

void SmtpClientProtocol::onWritten(bool carried_body) {
  if (carried_body && body_writes_in_flight_ > 0) --body_writes_in_flight_;
  if (state_ >= State::kClosing) return;
  if (carried_body) rearmForReply();
}

void SmtpClientProtocol::onTransactionReply(Expect expect, SmtpReply& reply) {
  Transaction& tx = txs_.front();
  if (reply.code == 421) {
    // The server is closing the channel (RFC 5321 section 3.8): the message is deferred.
    tx.replies.failure_reply = reply;
    fail(End::kServiceClosing, reply.summary());
    return;
  }
  switch (expect) {
    case Expect::kRset:
      break;  // a refused RSET shows up in the MAIL reply that follows
    case Expect::kMail:
      tx.replies.mail_reply = reply;
      tx.replies.mail_failed = !reply.positive();
      break;
    case Expect::kRcpt:
      if (tx.next_rcpt < tx.replies.rcpt_replies.size()) tx.replies.rcpt_replies[tx.next_rcpt++] = std::move(reply);
      if (!tx.held_bdat.empty() && tx.next_rcpt == tx.replies.rcpt_replies.size()) {
        onRecipientsDecided(tx);
        return;
      }
      break;
    case Expect::kData:
      if (!onDataReply(tx, reply)) return;
      break;
    case Expect::kDataEnd:
    case Expect::kBdat:
      if (!tx.ignore_end_reply) tx.replies.final_reply = std::move(reply);
      finishTransaction();
      return;
    default:
      fail(End::kProtocol, "reply out of order");
      return;
  }
  if (!tx.unsent.empty()) {
    continueLockStep(tx);
    return;
  }
  rearmForReply();
}

// The reply to DATA: 354 sends the content; anything else ends the transaction. False when
// the transaction (or the session) ended here.
bool SmtpClientProtocol::onDataReply(Transaction& tx, SmtpReply& reply) {
  if (reply.positive()) {
    fail(End::kProtocol, "DATA answered with " + reply.summary() + " instead of 354");
    return false;
  }
  if (reply.code != 354) {
    tx.replies.final_reply = std::move(reply);
    finishTransaction();
    return false;
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
  return true;
}

// Pipelined BDAT, every RCPT answered: the body goes when some recipient was accepted, with
// the next transaction's group behind it; else the transaction ends without a byte of it
// (the next group's RSET clears the server's half-open transaction).
void SmtpClientProtocol::onRecipientsDecided(Transaction& tx) {
  std::string bdat = std::move(tx.held_bdat);
  tx.held_bdat.clear();
  if (!anyRecipientAccepted(tx)) {
    finishTransaction();
    return;
  }
  expected_.push_back(Expect::kBdat);
  appendText(std::move(bdat));
  // BDAT carries the message as it is, right behind its command: no stuffing, no terminator.
  appendBody(*tx.message);
  tx.content_sent = true;
  // The RSET stays: a refused BDAT need not reset the transaction (RFC 3030 section 2).
  if (txs_.size() > 1) releaseGroup(txs_[1], false);
  flush();
  rearmForReply();
}

// Lock-step: the next command, unless MAIL failed or every RCPT did, so that no DATA goes out.
void SmtpClientProtocol::continueLockStep(Transaction& tx) {
  bool data_next = tx.unsent.back().expect == Expect::kData || tx.unsent.back().expect == Expect::kBdat;
  if (tx.replies.mail_failed || (data_next && !anyRecipientAccepted(tx))) {
    tx.unsent.clear();
    finishTransaction();
    return;
  }
  sendNextStep();
  rearmForReply();
}

bool SmtpClientProtocol::anyRecipientAccepted(const Transaction& tx) const {
  if (tx.replies.mail_failed) return false;
  const std::vector<SmtpReply>& r = tx.replies.rcpt_replies;
  return std::any_of(r.begin(), r.end(), [](const SmtpReply& x) { return x.positive(); });
}

void SmtpClientProtocol::rearmForReply() {
  if (state_ != State::kBusy) return;
  if (body_writes_in_flight_ > 0) {
    transport_.armTimer(TimeoutPhase::kDataBlock);
  } else if (!expected_.empty()) {
    transport_.armTimer(phaseOf(expected_.front()));
  }
}

// Reports the front transaction, then any refused locally behind it; ready when none is left.
void SmtpClientProtocol::finishTransaction() {
  do {
    Transaction& tx = txs_.front();
    SmtpTransactionResult result = decideTransaction(tx.replies, {});
    TransactionDone done = std::move(tx.done);
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

void SmtpClientProtocol::onTimeout(const std::function<bool()>& link_draining) {
  switch (state_) {
    case State::kGreeting:
    case State::kHello:
      onOpeningTimeout();
      return;
    case State::kReady:
      quit();
      return;
    case State::kBusy:
      if (!txs_.empty() && txs_.front().decided_locally) {
        finishTransaction();
        return;
      }
      if (body_writes_in_flight_ > 0 && link_draining()) {
        // The data-block timeout is per block (RFC 5321 section 4.5.3.2.5): a slow link that
        // still takes bytes is given another period.
        transport_.armTimer(TimeoutPhase::kDataBlock);
        return;
      }
      fail(End::kTimeout, "timed out waiting for a reply");
      return;
    case State::kQuitting:
      closeQuietly();
      return;
    default:
      return;
  }
}

void SmtpClientProtocol::onConnectionLost(std::string reason) {
  // After our QUIT the server closing first is the normal end (RFC 5321 section 4.1.1.10).
  if (state_ == State::kQuitting) {
    closeQuietly();
    return;
  }
  // A server whose TLS gives up closes mid-handshake: that is the handshake failing.
  fail(handshaking_ ? End::kTlsFailed : End::kNetwork, handshaking_ ? "TLS handshake: " + reason : std::move(reason));
}

void SmtpClientProtocol::quit() {
  if (state_ == State::kReady) {
    state_ = State::kQuitting;
    end_ = End::kQuit;
    sendCommand("QUIT\r\n", Expect::kQuit);
    return;
  }
  if (state_ < State::kQuitting) fail(End::kAborted, "closed before the session was ready");
}

void SmtpClientProtocol::fail(End end, std::string reason) {
  if (state_ >= State::kClosing) return;
  end_ = end;
  end_reason_ = reason;
  // Every transaction in flight ends here, in order; the transport closes first so that no
  // callback can write to this session again.
  std::deque<Transaction> txs;
  txs.swap(txs_);
  closeQuietly();
  for (Transaction& tx : txs) tx.done(decideTransaction(tx.replies, reason));
}

void SmtpClientProtocol::closeQuietly() {
  if (state_ >= State::kClosing) return;
  state_ = State::kClosing;
  transport_.close();
}

}  // namespace lbmail::smtp
