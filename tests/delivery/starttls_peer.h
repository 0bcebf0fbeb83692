// The server half of STARTTLS for scripted SMTP peers: an OpenSSL server context with a test
// certificate, and a blocking TLS session over a scripted peer's socket once the script has
// answered STARTTLS with 220, so a test says line by line what the server does inside TLS.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scripted_smtp_server.h"
#include "test_pki.h"

namespace lbmail::test {

// One server SSL_CTX shared by a test server's connections, so that the tickets it issues on
// one connection resume on the next.
class StartTlsServerContext {
 public:
  explicit StartTlsServerContext(const TestCertificate& certificate);
  ~StartTlsServerContext();
  StartTlsServerContext(const StartTlsServerContext&) = delete;
  StartTlsServerContext& operator=(const StartTlsServerContext&) = delete;

  bool ok() const { return ctx_ != nullptr; }
  SSL_CTX* ctx() const { return ctx_; }

 private:
  SSL_CTX* ctx_ = nullptr;
};

class StartTlsPeer {
 public:
  // Runs the server's handshake over peer's socket (blocking; its 10 s receive bound holds).
  StartTlsPeer(const StartTlsServerContext& context, ScriptedPeer& peer);
  ~StartTlsPeer();
  StartTlsPeer(const StartTlsPeer&) = delete;
  StartTlsPeer& operator=(const StartTlsPeer&) = delete;

  bool established() const { return established_; }
  bool resumed() const;
  void send(std::string_view bytes);
  // One line without its CRLF; nullopt when the session ends first.
  std::optional<std::string> readLine();
  std::optional<std::string> readUntil(std::string_view terminator);

 private:
  SSL* ssl_;
  bool established_ = false;
  std::string buffered_;
};

// In plain: the greeting, an EHLO reply offering STARTTLS, the STARTTLS read and its 220 sent.
void offerStartTls(ScriptedPeer& peer);
// Inside TLS: the EHLO again (answered with PIPELINING), one pipelined transaction accepted
// (its body into *body), then QUIT.
void acceptOneMessage(StartTlsPeer& tls, std::string* body);

}  // namespace lbmail::test
