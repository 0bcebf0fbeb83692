// The delivery engine's client TLS: one SSL_CTX (TLS 1.2 and up, the system's trust store plus
// an optional CA file, OpenSSL's DANE support, a client session cache that hands sessions to
// their connection), and the TLS session for one STARTTLS set up for its TlsRequirement.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "lbmail/delivery/delivery_result.h"
#include "lbmail/delivery/tls_policy.h"
#include "lbmail/tls/tls_session.h"

namespace lbmail::delivery {

// A session the server issued, kept to resume a later connection with (SSL_SESSION_free).
using SharedSslSession = std::shared_ptr<SSL_SESSION>;

class SmtpTlsContext {
 public:
  // ca_file: PEM certificates trusted besides the system's ("" for none). A context that
  // could not be made says why in error(); its sessions then fail their handshake at once.
  explicit SmtpTlsContext(const std::string& ca_file = "");
  SmtpTlsContext(const SmtpTlsContext&) = delete;
  SmtpTlsContext& operator=(const SmtpTlsContext&) = delete;
  ~SmtpTlsContext();

  const std::string& error() const { return error_; }

  // A client session that checks the server as requirement says (SNI, host name, TLSA records,
  // whether a failed check ends the handshake), resuming resume when given. nullptr when
  // OpenSSL refuses: why goes to *why.
  std::unique_ptr<tls::TlsSession> newSession(const TlsRequirement& requirement, SSL_SESSION* resume,
                                              std::string* why) const;

  // After the handshake: version, cipher, and whether the certificate checked out.
  static TlsInfo describe(const tls::TlsSession& session, const TlsRequirement& requirement);
  // Why a handshake failed: OpenSSL's reason, with the certificate check's when it failed.
  static std::string handshakeFailure(const tls::TlsSession& session);

 private:
  static int onNewSession(SSL* ssl, SSL_SESSION* session);
  bool configure(SSL* ssl, const TlsRequirement& requirement, std::string* why) const;

  SSL_CTX* ctx_ = nullptr;
  std::string error_;
};

}  // namespace lbmail::delivery
