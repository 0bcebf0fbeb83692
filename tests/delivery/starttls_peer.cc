// Scripted STARTTLS server sessions over OpenSSL's blocking socket BIO.
#include "starttls_peer.h"

#include <gtest/gtest.h>

namespace lbmail::test {

StartTlsServerContext::StartTlsServerContext(const TestCertificate& certificate) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return;
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, certificate.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    ADD_FAILURE() << "cannot load " << certificate.cert;
    SSL_CTX_free(ctx);
    return;
  }
  ctx_ = ctx;
}

StartTlsServerContext::~StartTlsServerContext() { SSL_CTX_free(ctx_); }

StartTlsPeer::StartTlsPeer(const StartTlsServerContext& context, ScriptedPeer& peer) : ssl_(SSL_new(context.ctx())) {
  SSL_set_fd(ssl_, peer.fd());
  established_ = SSL_accept(ssl_) == 1;
}

StartTlsPeer::~StartTlsPeer() {
  if (established_) SSL_shutdown(ssl_);
  SSL_free(ssl_);
}

bool StartTlsPeer::resumed() const { return SSL_session_reused(ssl_) == 1; }

void StartTlsPeer::send(std::string_view bytes) {
  if (established_ && !bytes.empty()) SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
}

std::optional<std::string> StartTlsPeer::readUntil(std::string_view terminator) {
  size_t pos;
  while ((pos = buffered_.find(terminator)) == std::string::npos) {
    char buf[16384];
    int n = established_ ? SSL_read(ssl_, buf, sizeof buf) : 0;
    if (n <= 0) return std::nullopt;
    buffered_.append(buf, static_cast<size_t>(n));
  }
  std::string out = buffered_.substr(0, pos + terminator.size());
  buffered_.erase(0, pos + terminator.size());
  return out;
}

std::optional<std::string> StartTlsPeer::readLine() {
  std::optional<std::string> line = readUntil("\r\n");
  if (line) line->resize(line->size() - 2);
  return line;
}

void offerStartTls(ScriptedPeer& peer) {
  greetAndHello(peer, {"PIPELINING", "STARTTLS"});
  EXPECT_EQ(peer.readLine().value_or("(closed)"), "STARTTLS");
  peer.send("220 2.0.0 Ready to start TLS\r\n");
}

void acceptOneMessage(StartTlsPeer& tls, std::string* body) {
  ASSERT_TRUE(tls.established());
  std::optional<std::string> ehlo = tls.readLine();
  ASSERT_TRUE(ehlo && ehlo->starts_with("EHLO ")) << ehlo.value_or("(closed)");
  tls.send("250-tls.test\r\n250 PIPELINING\r\n");
  EXPECT_TRUE(tls.readLine().value_or("").starts_with("MAIL FROM:"));
  EXPECT_TRUE(tls.readLine().value_or("").starts_with("RCPT TO:"));
  EXPECT_EQ(tls.readLine().value_or(""), "DATA");
  tls.send("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
  *body = tls.readUntil("\r\n.\r\n").value_or("");
  tls.send("250 2.0.0 queued inside TLS\r\n");
  EXPECT_EQ(tls.readLine().value_or("(closed)"), "QUIT");
  tls.send("221 2.0.0 Bye\r\n");
}

}  // namespace lbmail::test
