// libFuzzer target for the SMTP client's state machine: arbitrary server bytes, cut into reads,
// against a session that sends pipelined BDAT or DATA transactions (or lock-step ones) and
// answers timeouts and written-callbacks along the way. Nothing may crash, write after the
// session closed, or report a transaction twice or not at all.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/smtp/smtp_client_protocol.h"

namespace {

using lbmail::smtp::OutgoingMessage;
using lbmail::smtp::SmtpClientProtocol;
using lbmail::smtp::SmtpClientSettings;
using lbmail::smtp::SmtpClientWrite;
using lbmail::smtp::SmtpReply;
using lbmail::smtp::SmtpTransactionResult;
using lbmail::smtp::TimeoutPhase;

class Session final : public SmtpClientProtocol::Transport {
 public:
  Session(const SmtpClientSettings& settings, std::vector<OutgoingMessage>& messages)
      : messages_(messages), protocol(settings, *this) {}

  void write(std::unique_ptr<SmtpClientWrite> w) override {
    assert(!closed);
    if (w->carries_body) ++body_writes;
  }
  void armTimer(TimeoutPhase) override { assert(!closed); }
  void onGreeting(const SmtpReply& greeting) override { assert(greeting.code >= 200 && greeting.code <= 599); }
  void onReady() override {
    assert(!closed);
    if (next_ == messages_.size()) {
      protocol.quit();
      return;
    }
    protocol.cork();
    do {
      ++sent;
      protocol.send(messages_[next_++], [this](SmtpTransactionResult&& r) {
        ++reported;
        assert(r.reason.size() <= 4096);
        (void)r;
      });
    } while (next_ < messages_.size() && protocol.acceptsMore());
    protocol.uncork();
  }
  void close() override {
    assert(!closed);
    closed = true;
  }
  void startTls() override {
    assert(!closed);
    tls_started = true;
  }

 private:
  std::vector<OutgoingMessage>& messages_;
  size_t next_ = 0;

 public:
  SmtpClientProtocol protocol;
  size_t sent = 0;
  size_t reported = 0;
  uint32_t body_writes = 0;
  bool closed = false;
  bool tls_started = false;
};

}  // namespace

// The first byte picks the settings and the read size; a byte 0xff in the rest is a timeout, 0xfe
// says the body writes went out; after STARTTLS's 220, 0xfd first fails the handshake.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  SmtpClientSettings settings;
  settings.pipelining = (data[0] & 1) != 0;
  settings.chunking = (data[0] & 2) != 0;
  settings.max_pipelined_transactions = 1 + (data[0] >> 6);
  // STARTTLS when offered on odd lengths, required on the others when bit 4 says so.
  SmtpClientProtocol::StartTls tls = (size & 1) != 0 ? SmtpClientProtocol::StartTls::kIfOffered
                                     : (data[0] & 16) != 0 ? SmtpClientProtocol::StartTls::kRequired
                                                           : SmtpClientProtocol::StartTls::kNever;
  size_t step = 1 + (data[0] >> 2) % 16;
  auto body = std::make_shared<std::string>("Subject: x\r\n\r\n.line\r\nend");
  std::vector<OutgoingMessage> messages(3);
  for (size_t i = 0; i < messages.size(); ++i) {
    messages[i].mail_from = "a@x.test";
    messages[i].recipients = i == 1 ? std::vector<std::string>{"b@y.test", "c@y.test"} : std::vector<std::string>{"d@y.test"};
    messages[i].body = {*body};
    messages[i].owner = body;
  }
  messages[2].recipients = {"bad address"};  // refused locally
  Session s(settings, messages);
  s.protocol.setStartTls(tls);
  s.protocol.start();
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!input.empty() && !s.closed) {
    if (s.tls_started) {
      // The handshake (which a byte 0xfd fails) comes before any more reads.
      s.tls_started = false;
      if (static_cast<uint8_t>(input[0]) == 0xfd) {
        s.protocol.fail(SmtpClientProtocol::End::kTlsFailed, "handshake");
        break;
      }
      s.protocol.onTlsEstablished();
      continue;
    }
    if (static_cast<uint8_t>(input[0]) == 0xff) {
      s.protocol.onTimeout([&] { return (input.size() & 1) != 0; });
      input.remove_prefix(1);
      continue;
    }
    if (static_cast<uint8_t>(input[0]) == 0xfe) {
      while (s.body_writes > 0) {
        --s.body_writes;
        s.protocol.onWritten(true);
      }
      input.remove_prefix(1);
      continue;
    }
    size_t n = std::min(step, input.size());
    s.protocol.receive(input.substr(0, n));
    input.remove_prefix(n);
  }
  s.protocol.fail(SmtpClientProtocol::End::kAborted, "end of input");
  // Every transaction handed over is reported exactly once, at the latest when the session ends.
  assert(s.reported == s.sent);
  return 0;
}
