// The sink's server TLS context (OpenSSL libssl).
#include "sink_tls_context.h"

#include <cstdlib>

#include "lbmail/tls/certificate_files.h"

namespace lbmail {
namespace {

constexpr unsigned char kSessionIdContext[] = "lbmail sink";

}  // namespace

Expected<std::unique_ptr<SinkTlsContext>, std::string> SinkTlsContext::load(const std::string& cert_file,
                                                                           const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return unexpected(tls::openSslError("cannot create a TLS context"));
  std::unique_ptr<SinkTlsContext> context(new SinkTlsContext(ctx));
  // RFC 8996 retired TLS 1.0 and 1.1; senders that still need them meet no sink worth testing.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Client-initiated TLS 1.2 renegotiation only costs the server CPU.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // Session tickets stay on (OpenSSL's default), with the server cache as well: a sender that
  // resumes its sessions, as the delivery engine does, skips the full handshake here.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  if (std::string err = tls::useCertificateAndKey(ctx, cert_file, key_file); !err.empty()) return unexpected(err);
  return context;
}

SinkTlsContext::~SinkTlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<tls::TlsSession> SinkTlsContext::newSession() const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) std::abort();  // only when OpenSSL cannot allocate
  SSL_set_accept_state(ssl);
  return std::make_unique<tls::TlsSession>(ssl);
}

}  // namespace lbmail
