// Client TLS for SMTP: the SSL_CTX and each STARTTLS session's checks (OpenSSL libssl, whose own
// DANE support checks TLSA records, RFC 7671 and RFC 7672).
#include "smtp_tls_context.h"

#include <openssl/err.h>

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include "lbmail/tls/certificate_files.h"

namespace lbmail::delivery {
namespace {

using tls::openSslError;

bool ipLiteral(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

SmtpTlsContext::SmtpTlsContext(const std::string& ca_file) : ctx_(SSL_CTX_new(TLS_client_method())) {
  if (!ctx_) {
    error_ = openSslError("cannot create a TLS context");
    return;
  }
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // A TLS 1.2 server's HelloRequest would stall a write halfway (OpenSSL answers WANT_READ):
  // refuse renegotiation, as the sink's context does.
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION);
  // Each session decides whether a failed check ends its handshake (see configure()).
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) error_ = openSslError("cannot load the system's trusted CAs");
  if (!ca_file.empty() && SSL_CTX_load_verify_file(ctx_, ca_file.c_str()) != 1) {
    error_ = openSslError("cannot load the CA file " + ca_file);
  }
  if (SSL_CTX_dane_enable(ctx_) <= 0) error_ = openSslError("cannot enable DANE");
  // Sessions go to the connection that made them, through the callback, and from its pool to
  // the next connection to the same destination; OpenSSL keeps none itself.
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx_, onNewSession);
}

SmtpTlsContext::~SmtpTlsContext() { SSL_CTX_free(ctx_); }

int SmtpTlsContext::onNewSession(SSL* ssl, SSL_SESSION* session) {
  if (SSL_SESSION_is_resumable(session) != 1) return 0;
  tls::TlsSession* owner = tls::TlsSession::of(ssl);
  // 1: the listener took OpenSSL's reference.
  return owner && owner->newSession(session) ? 1 : 0;
}

std::unique_ptr<tls::TlsSession> SmtpTlsContext::newSession(const TlsRequirement& requirement, SSL_SESSION* resume,
                                                            std::string* why) const {
  if (!error_.empty()) {
    *why = error_;
    return nullptr;
  }
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) {
    *why = openSslError("cannot create a TLS session");
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  if (!configure(ssl, requirement, why) || (resume && SSL_set_session(ssl, resume) != 1)) {
    if (why->empty()) *why = openSslError("cannot resume the TLS session");
    SSL_free(ssl);
    return nullptr;
  }
  return std::make_unique<tls::TlsSession>(ssl);
}

bool SmtpTlsContext::configure(SSL* ssl, const TlsRequirement& requirement, std::string* why) const {
  const std::string& host = requirement.host;
  if (requirement.level == TlsLevel::kDane) {
    // The TLSA base domain is the MX host: SNI and, for DANE-TA, the name checked
    // (RFC 7672 section 3.2.2); DANE-EE checks no name (section 3.1.1).
    if (host.empty() || SSL_dane_enable(ssl, host.c_str()) <= 0) {
      *why = openSslError("cannot enable DANE for '" + host + "'");
      return false;
    }
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    int usable = 0;
    for (const dns::TlsaRecord& r : requirement.tlsa) {
      // PKIX-TA and PKIX-EE are not for SMTP (RFC 7672 section 3.1.3).
      if (r.usage != 2 && r.usage != 3) continue;
      int rc = SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching_type, r.data.data(), r.data.size());
      if (rc == 0) ERR_clear_error();  // left behind by a record OpenSSL ignores
      if (rc < 0) {
        *why = openSslError("TLSA record refused");
        return false;
      }
      usable += rc > 0 ? 1 : 0;  // 0: a selector or matching type OpenSSL does not know
    }
    if (usable == 0) {
      *why = "no usable TLSA record for " + host;
      return false;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    return true;
  }
  bool ip = !host.empty() && ipLiteral(host);
  // No address in SNI (RFC 6066 section 3).
  if (!host.empty() && !ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    *why = openSslError("cannot send the server name '" + host + "'");
    return false;
  }
  // The name is checked at every level, so that a result can say "verified"; only kVerify
  // makes a failed check end the handshake. Wildcards only as a whole left-most label
  // (RFC 6125 section 6.4.3).
  if (!host.empty()) {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) : SSL_set1_host(ssl, host.c_str());
    if (set != 1) {
      *why = openSslError("cannot check the certificate for '" + host + "'");
      return false;
    }
  }
  if (requirement.level == TlsLevel::kVerify) {
    if (host.empty()) {
      *why = "TLS verify needs the MX host's name";
      return false;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  }
  return true;
}

TlsInfo SmtpTlsContext::describe(const tls::TlsSession& session, const TlsRequirement& requirement) {
  SSL* ssl = session.ssl();
  TlsInfo info;
  info.policy = requirement.policy;
  info.version = SSL_get_version(ssl);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  info.cipher = cipher ? SSL_CIPHER_get_name(cipher) : "";
  // A resumed session carries the result of the check made when it was first established.
  info.verified = !requirement.host.empty() && SSL_get_verify_result(ssl) == X509_V_OK;
  info.dane = SSL_get0_dane_authority(ssl, nullptr, nullptr) >= 0 ||
              (requirement.level == TlsLevel::kDane && info.verified && SSL_session_reused(ssl) == 1);
  return info;
}

std::string SmtpTlsContext::handshakeFailure(const tls::TlsSession& session) {
  SSL* ssl = session.ssl();
  std::string reason = session.error();
  long verify = SSL_get_verify_result(ssl);
  if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0 && verify != X509_V_OK) {
    reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  }
  return reason;
}

}  // namespace lbmail::delivery
