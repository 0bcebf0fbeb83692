// The opening of an SMTP client session: greeting, EHLO (HELO when refused), STARTTLS (RFC 3207)
// and the EHLO after it. SmtpClientProtocol's members, apart from the transactions.
#include "lbmail/smtp/smtp_client_protocol.h"

namespace lbmail::smtp {

void SmtpClientProtocol::onHelloReply(Expect expect, SmtpReply& reply) {
  if (expect == Expect::kGreeting) {
    greeting_ = reply;
    transport_.onGreeting(greeting_);
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
    afterHello();
    return;
  }
  // 421 to EHLO ends the session at its start, like a 421 greeting (RFC 5321 section 3.8).
  if (expect == Expect::kEhlo && reply.code != 421) {
    sendCommand("HELO " + settings_.helo_name + "\r\n", Expect::kHelo);
    return;
  }
  fail(End::kGreetingFailed, (expect == Expect::kEhlo ? "EHLO: " : "HELO: ") + reply.summary());
}

// STARTTLS once, after the first EHLO: never again inside TLS (RFC 3207 section 4.2). HELO
// offers no extensions, so a server that refused EHLO has no STARTTLS either.
void SmtpClientProtocol::afterHello() {
  if (secured_ || start_tls_ == StartTls::kNever) {
    becomeReady();
    return;
  }
  if (caps_.starttls) {
    sendCommand("STARTTLS\r\n", Expect::kStartTls);
    return;
  }
  if (start_tls_ == StartTls::kRequired) {
    fail(End::kTlsUnavailable, "STARTTLS not offered");
    return;
  }
  becomeReady();
}

void SmtpClientProtocol::onStartTlsReply(SmtpReply& reply) {
  if (reply.code == 220) {
    tls_starting_ = true;  // receive() checks what follows the reply, then starts TLS
    return;
  }
  if (reply.code == 421) {
    fail(End::kServiceClosing, "STARTTLS: " + reply.summary());
    return;
  }
  if (start_tls_ == StartTls::kRequired) {
    fail(End::kTlsUnavailable, "STARTTLS refused: " + reply.summary());
    return;
  }
  // 454 and the like: the session goes on in plain (RFC 3207 section 4).
  becomeReady();
}

// Called with the bytes read behind the 220. A server sends nothing after it until the client's
// handshake: anything there was written before TLS and must never be taken as coming through
// it (RFC 3207 section 4.2; the plaintext injection of CVE-2011-0411).
void SmtpClientProtocol::startTlsNow(std::string_view unread) {
  tls_starting_ = false;
  if (!unread.empty() || parser_.pendingBytes() > 0) {
    fail(End::kProtocol, "bytes after the 220 to STARTTLS, before TLS (plaintext injection?)");
    return;
  }
  handshaking_ = true;
  transport_.armTimer(TimeoutPhase::kStartTls);
  transport_.startTls();
}

void SmtpClientProtocol::onTlsEstablished() {
  if (!handshaking_ || state_ >= State::kClosing) return;
  handshaking_ = false;
  secured_ = true;
  // What the server said in plain is forgotten; its EHLO over TLS may say otherwise
  // (RFC 3207 section 4.2).
  caps_ = ServerCapabilities{};
  sendCommand("EHLO " + settings_.helo_name + "\r\n", Expect::kEhlo);
}

void SmtpClientProtocol::becomeReady() {
  state_ = State::kReady;
  transport_.armTimer(TimeoutPhase::kIdle);
  transport_.onReady();
}

void SmtpClientProtocol::onOpeningTimeout() {
  if (handshaking_) {
    fail(End::kTlsFailed, "TLS handshake timed out");
    return;
  }
  if (state_ == State::kGreeting) {
    fail(End::kGreetingFailed, "timed out waiting for the greeting");
    return;
  }
  bool starttls = !expected_.empty() && expected_.front() == Expect::kStartTls;
  fail(End::kGreetingFailed, starttls ? "timed out waiting for the STARTTLS reply"
                                      : "timed out waiting for the EHLO/HELO reply");
}

}  // namespace lbmail::smtp
