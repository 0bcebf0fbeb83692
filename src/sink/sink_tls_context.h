// The sink's side of STARTTLS: one server SSL_CTX with its certificate, from which each
// connection that asks for TLS gets a session.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "lbmail/core/expected.h"
#include "lbmail/tls/tls_session.h"

namespace lbmail {

class SinkTlsContext {
 public:
  // TLS 1.2 or later with the certificate chain and key from these PEM files; the error names
  // the file and OpenSSL's reason.
  static Expected<std::unique_ptr<SinkTlsContext>, std::string> load(const std::string& cert_file,
                                                                    const std::string& key_file);
  ~SinkTlsContext();
  SinkTlsContext(const SinkTlsContext&) = delete;
  SinkTlsContext& operator=(const SinkTlsContext&) = delete;

  // A server session for one connection, waiting for the client's hello.
  std::unique_ptr<tls::TlsSession> newSession() const;

 private:
  explicit SinkTlsContext(SSL_CTX* ctx) : ctx_(ctx) {}

  SSL_CTX* ctx_;
};

}  // namespace lbmail
