// The receiving ESMTP state machine: pipelined commands, DATA and BDAT, RFC 5321 limits.
#include "lbmail/smtp/smtp_server_protocol.h"

#include <algorithm>
#include <charconv>

namespace lbmail::smtp {
namespace {

// Dot handling in DATA (RFC 5321 §4.5.2): where we are relative to a line start.
enum DotState { kMidLine = 0, kLineStart = 1, kDot = 2, kDotCr = 3 };

// After this many refused commands in a row the client is not speaking SMTP: 421 and close.
constexpr int kMaxErrors = 10;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The value of the first header called name in a header block ("Message-ID"), trimmed.
std::string_view headerValue(std::string_view headers, std::string_view name) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t end = headers.find('\n', pos);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view line = headers.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header section
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) { return lower(a) == lower(b); })) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    }
    pos = end + 1;
  }
  return {};
}

bool plausibleAddress(std::string_view a) {
  size_t at = a.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < a.size();
}

}  // namespace

SmtpServerProtocol::SmtpServerProtocol(std::string hostname, const Limits& limits, Policy& policy)
    : hostname_(std::move(hostname)), limits_(limits), policy_(policy), hash_(XXH3_createState()) {}

SmtpServerProtocol::~SmtpServerProtocol() {
  policy_.releaseBody(body_.size());  // a connection closed mid-message gives its reservation back
  XXH3_freeState(hash_);
}

ServerReply SmtpServerProtocol::reply(int code, std::string_view enhanced, std::string_view text,
                                    ServerReply::Kind kind) const {
  ServerReply r;
  r.kind = kind;
  r.code = code;
  r.text.reserve(8 + enhanced.size() + text.size());
  r.text.append(std::to_string(code));
  r.text.push_back(' ');
  if (!enhanced.empty()) {
    r.text.append(enhanced);
    r.text.push_back(' ');
  }
  r.text.append(text);
  r.text.append("\r\n");
  r.close_after = code == 221 || code == 421;
  return r;
}

ServerReply SmtpServerProtocol::greeting() const {
  return reply(220, "", hostname_ + " ESMTP lbmail sink", ServerReply::Kind::kGreeting);
}

ServerReply SmtpServerProtocol::ehloReply() const {
  ServerReply r;
  r.code = 250;
  r.text = "250-" + hostname_ + "\r\n250-PIPELINING\r\n250-SIZE " + std::to_string(limits_.max_message_size) +
           "\r\n250-8BITMIME\r\n250-CHUNKING\r\n";
  // RFC 3207 section 4.2: never offered again once TLS is up.
  if (offer_tls_ && !secured_) r.text += "250-STARTTLS\r\n";
  r.text += "250 ENHANCEDSTATUSCODES\r\n";
  return r;
}

void SmtpServerProtocol::resetTransaction() {
  have_sender_ = false;
  sender_.clear();
  recipients_.clear();
  bdat_left_ = 0;
  bdat_last_ = false;
  bdat_refused_ = false;
  body_size_ = 0;
  oversize_ = false;
  no_storage_ = false;
  long_line_ = false;
  line_length_ = 0;
  dot_state_ = kLineStart;
  after_cr_ = false;
  XXH3_64bits_reset(hash_);
  // Freed, not cleared: a connection between messages holds no body memory.
  std::string().swap(headers_);
  headers_done_ = false;
  dropBody();
}

void SmtpServerProtocol::dropBody() {
  policy_.releaseBody(body_.size());
  std::string().swap(body_);
}

void SmtpServerProtocol::feed(std::string_view bytes, std::vector<ServerReply>& replies) {
  while (!bytes.empty() && state_ != State::kClosed) {
    if (state_ == State::kStartTls) {
      discarded_before_tls_ += bytes.size();
      return;
    }
    if (state_ == State::kData) {
      bytes.remove_prefix(feedData(bytes, replies));
      continue;
    }
    if (state_ == State::kBdat) {
      bytes.remove_prefix(feedBdat(bytes, replies));
      continue;
    }
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    // Keep at most one command line; the rest of an overlong one is dropped, then refused.
    if (line_.size() + piece.size() > kMaxCommandLine - 1) {
      line_too_long_ = true;
    } else if (nl == std::string_view::npos || !line_.empty()) {
      line_.append(piece);
    }
    if (nl == std::string_view::npos) return;
    bytes.remove_prefix(nl + 1);
    if (line_too_long_) {
      line_.clear();
      line_too_long_ = false;
      replies.push_back(reply(500, "5.5.6", "Line too long"));
      continue;
    }
    std::string_view line = line_.empty() ? piece : std::string_view(line_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    handleLine(line, replies);
    line_.clear();
  }
}

void SmtpServerProtocol::handleLine(std::string_view line, std::vector<ServerReply>& replies) {
  size_t before = replies.size();
  auto cmd = parseSmtpCommand(line);
  if (!cmd) {
    replies.push_back(reply(cmd.error().code, cmd.error().enhanced, cmd.error().text));
  } else {
    handleCommand(*cmd, replies);
  }
  // Count refusals in a row; a client sending only garbage is cut off. (BDAT answers only
  // once its chunk has arrived, so a command may add no reply yet.)
  if (replies.size() == before) return;
  errors_ = replies.back().code >= 500 ? errors_ + 1 : 0;
  if (errors_ >= kMaxErrors && state_ != State::kClosed) {
    replies.push_back(reply(421, "4.7.0", hostname_ + " Too many errors, closing connection"));
    state_ = State::kClosed;
  }
}

void SmtpServerProtocol::handleCommand(const SmtpCommand& cmd, std::vector<ServerReply>& replies) {
  switch (cmd.verb) {
    case SmtpVerb::kEhlo:
      helo_ = std::string(cmd.argument);
      resetTransaction();
      replies.push_back(ehloReply());
      return;
    case SmtpVerb::kHelo:
      helo_ = std::string(cmd.argument);
      resetTransaction();
      replies.push_back(reply(250, "", hostname_));
      return;
    case SmtpVerb::kMail: {
      if (helo_.empty()) return replies.push_back(reply(503, "5.5.1", "Send EHLO or HELO first"));
      if (have_sender_) return replies.push_back(reply(503, "5.5.1", "Nested MAIL command"));
      std::string_view size = smtpParam(cmd.params, "SIZE");
      uint64_t declared = 0;
      if (!size.empty()) std::from_chars(size.data(), size.data() + size.size(), declared);
      if (declared > limits_.max_message_size) {
        return replies.push_back(reply(552, "5.3.4", "Message size exceeds fixed maximum message size"));
      }
      Decision d = policy_.onMail(cmd.path);
      if (d.code / 100 != 2) {
        replies.push_back(reply(d.code, d.enhanced, d.text));
        if (replies.back().close_after) state_ = State::kClosed;
        return;
      }
      resetTransaction();
      have_sender_ = true;
      sender_ = std::string(cmd.path);
      return replies.push_back(reply(250, "2.1.0", "Ok"));
    }
    case SmtpVerb::kRcpt: {
      if (!have_sender_) return replies.push_back(reply(503, "5.5.1", "Need MAIL command first"));
      if (recipients_.size() >= limits_.max_recipients) {
        return replies.push_back(reply(452, "4.5.3", "Too many recipients"));
      }
      if (!plausibleAddress(cmd.path)) return replies.push_back(reply(501, "5.1.3", "Bad recipient address syntax"));
      Decision d = policy_.onRecipient(cmd.path);
      replies.push_back(reply(d.code, d.enhanced, d.text));
      if (d.code / 100 == 2) recipients_.emplace_back(cmd.path);
      if (replies.back().close_after) state_ = State::kClosed;
      return;
    }
    case SmtpVerb::kData:
      if (!have_sender_) return replies.push_back(reply(503, "5.5.1", "Need MAIL command first"));
      // RFC 2920 §3.1: with every RCPT refused, DATA is refused too (the client then sends no body).
      if (recipients_.empty()) return replies.push_back(reply(554, "5.5.1", "No valid recipients"));
      state_ = State::kData;
      dot_state_ = kLineStart;
      after_cr_ = false;
      line_length_ = 0;
      return replies.push_back(reply(354, "", "End data with <CR><LF>.<CR><LF>"));
    case SmtpVerb::kBdat:
      // RFC 3030 §2: the chunk is read in full whatever the reply will be.
      bdat_refused_ = !have_sender_ || recipients_.empty();
      bdat_left_ = cmd.chunk_size;
      bdat_last_ = cmd.last_chunk;
      state_ = State::kBdat;
      if (bdat_left_ == 0) feedBdat({}, replies);
      return;
    case SmtpVerb::kRset:
      resetTransaction();
      return replies.push_back(reply(250, "2.0.0", "Ok"));
    case SmtpVerb::kNoop:
      return replies.push_back(reply(250, "2.0.0", "Ok"));
    case SmtpVerb::kVrfy:
      return replies.push_back(reply(252, "2.5.0", "Cannot VRFY user, but will accept message"));
    case SmtpVerb::kHelp:
      return replies.push_back(reply(214, "2.0.0", "See RFC 5321"));
    case SmtpVerb::kQuit:
      replies.push_back(reply(221, "2.0.0", "Bye"));
      state_ = State::kClosed;
      return;
    case SmtpVerb::kStartTls:
      return startTls(replies);
  }
}

void SmtpServerProtocol::startTls(std::vector<ServerReply>& replies) {
  if (secured_) return replies.push_back(reply(503, "5.5.1", "TLS already active"));
  if (!offer_tls_) return replies.push_back(reply(502, "5.5.1", "STARTTLS not available"));
  // A transaction begun in plaintext does not continue under TLS (as Postfix refuses it too).
  if (have_sender_) return replies.push_back(reply(503, "5.5.1", "MAIL transaction in progress"));
  ServerReply r = reply(220, "2.0.0", "Ready to start TLS");
  r.start_tls = true;
  replies.push_back(std::move(r));
  state_ = State::kStartTls;
}

void SmtpServerProtocol::tlsEstablished() {
  if (state_ != State::kStartTls) return;
  helo_.clear();
  resetTransaction();
  secured_ = true;
  errors_ = 0;
  state_ = State::kCommand;
}

void SmtpServerProtocol::bodyBytes(std::string_view bytes) {
  if (bytes.empty()) return;
  body_size_ += bytes.size();
  if (oversize_) return;
  if (body_size_ > limits_.max_message_size) {
    // Read to the end (RFC 5321 §4.5.3.1.7: the 552 comes after the data), keep nothing.
    oversize_ = true;
    std::string().swap(headers_);
    dropBody();
    return;
  }
  XXH3_64bits_update(hash_, bytes.data(), bytes.size());
  if (!headers_done_) {
    size_t room = limits_.max_header_capture - headers_.size();
    headers_.append(bytes.substr(0, room));
    if (headers_.find("\r\n\r\n") != std::string::npos || headers_.find("\n\n") != std::string::npos ||
        headers_.size() >= limits_.max_header_capture) {
      headers_done_ = true;
    }
  }
  if (policy_.keepBodies()) keepBodyBytes(bytes);
}

void SmtpServerProtocol::keepBodyBytes(std::string_view bytes) {
  if (no_storage_) return;
  if (!policy_.reserveBody(bytes.size())) {
    no_storage_ = true;
    dropBody();
    return;
  }
  // Doubling, but by at most 8 MiB a step: the capacity stays close to the bytes reserved.
  size_t need = body_.size() + bytes.size();
  if (body_.capacity() < need) body_.reserve(std::max(need, std::min(body_.size() * 2, body_.size() + (8u << 20))));
  body_.append(bytes);
}

// Only <CR><LF>.<CR><LF> ends DATA (RFC 5321 §4.1.1.4), and only a dot after <CR><LF> is
// stuffing (§4.5.2): a bare LF starts no line here. Ending on <LF>.<LF> or <LF>.<CR><LF>, as
// some servers do, lets a message smuggle a second one past a relay that does not ("SMTP
// smuggling"), so the sink takes neither.
size_t SmtpServerProtocol::feedData(std::string_view b, std::vector<ServerReply>& replies) {
  size_t run = 0;  // start of the body bytes not yet passed on
  for (size_t i = 0; i < b.size(); ++i) {
    char c = b[i];
    bool crlf = c == '\n' && after_cr_;
    after_cr_ = c == '\r';
    if (dot_state_ == kLineStart) {
      if (c == '.') {
        bodyBytes(b.substr(run, i - run));
        run = i + 1;  // the dot is either the terminator or stuffing: never body
        dot_state_ = kDot;
        continue;
      }
      dot_state_ = kMidLine;
    } else if (dot_state_ == kDot) {
      if (c == '\r') {
        run = i + 1;
        dot_state_ = kDotCr;
        continue;
      }
      dot_state_ = kMidLine;  // a stuffed dot, now removed
    } else if (dot_state_ == kDotCr) {
      if (c == '\n') {
        finishMessage(replies);
        return i + 1;
      }
      bodyBytes("\r");  // ".\r" not followed by LF: the CR was content
      dot_state_ = kMidLine;
    }
    if (c == '\n') {
      if (line_length_ + 1 > limits_.max_text_line) long_line_ = true;
      line_length_ = 0;
      dot_state_ = crlf ? kLineStart : kMidLine;
    } else {
      ++line_length_;
    }
  }
  bodyBytes(b.substr(run));
  return b.size();
}

size_t SmtpServerProtocol::feedBdat(std::string_view b, std::vector<ServerReply>& replies) {
  size_t take = static_cast<size_t>(std::min<uint64_t>(bdat_left_, b.size()));
  if (!bdat_refused_) bodyBytes(b.substr(0, take));
  bdat_left_ -= take;
  if (bdat_left_ > 0) return take;
  state_ = State::kCommand;
  if (bdat_refused_) {
    bdat_refused_ = false;
    replies.push_back(reply(have_sender_ ? 554 : 503, "5.5.1", have_sender_ ? "No valid recipients" : "Need MAIL command first"));
    if (bdat_last_) resetTransaction();
    return take;
  }
  if (bdat_last_) {
    finishMessage(replies);
  } else {
    replies.push_back(reply(250, "2.0.0", std::to_string(body_size_) + " octets received"));
  }
  return take;
}

void SmtpServerProtocol::finishMessage(std::vector<ServerReply>& replies) {
  state_ = State::kCommand;
  constexpr auto kEnd = ServerReply::Kind::kEndOfData;
  if (oversize_) {
    replies.push_back(reply(552, "5.3.4", "Message size exceeds fixed maximum message size", kEnd));
  } else if (long_line_) {
    replies.push_back(reply(554, "5.6.0", "Message has a line longer than 1000 octets", kEnd));
  } else if (no_storage_) {
    // RFC 5321 §4.2.2 452 / RFC 3463 X.3.1: a transient shortage; the client tries again later.
    replies.push_back(reply(452, "4.3.1", "Insufficient system storage, try again later", kEnd));
  } else {
    ReceivedMessage m;
    m.helo = helo_;
    m.sender = sender_;
    m.recipients = &recipients_;
    m.size = body_size_;
    m.body_hash = XXH3_64bits_digest(hash_);
    m.message_id = headerValue(headers_, "Message-ID");
    m.lbmail_id = headerValue(headers_, "X-Lbmail-Id");
    if (policy_.keepBodies()) m.body = body_;
    Decision d = policy_.onMessage(m);
    replies.push_back(reply(d.code, d.enhanced, d.text, kEnd));
    if (d.code / 100 == 2) ++messages_;
    if (replies.back().close_after) state_ = State::kClosed;
  }
  resetTransaction();
}

}  // namespace lbmail::smtp
