// TLS 1.3 contexts for the link (OpenSSL libssl): PSK or certificates, ALPN, the gateway's name.
#include "lbmail/proto/link_security.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "lbmail/tls/certificate_files.h"

namespace lbmail::proto {
namespace {

using tls::openSslError;

// Both suites hash with SHA-256, the PSK's hash; AES-128-GCM first (AES-NI makes it cheapest).
constexpr char kCipherSuites[] = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
constexpr unsigned char kAes128GcmSha256[] = {0x13, 0x01};  // RFC 8446, B.4

LinkSecurity* securityOf(SSL* ssl) { return static_cast<LinkSecurity*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))); }

}  // namespace

std::string LinkSecurity::pskIdentity(std::string_view gateway_name) {
  return "lbmail-link/3 " + std::string(gateway_name);
}

LinkSecurity::LinkSecurity(Role role, std::string gateway_name, SSL_CTX* ctx)
    : role_(role), gateway_name_(std::move(gateway_name)), ctx_(ctx) {
  SSL_CTX_set_app_data(ctx_, this);
}

LinkSecurity::~LinkSecurity() {
  SSL_CTX_free(ctx_);
  OPENSSL_cleanse(psk_.data(), psk_.size());
}

Expected<SSL_CTX*, std::string> LinkSecurity::newContext(Role role) {
  SSL_CTX* ctx = SSL_CTX_new(role == Role::kGateway ? TLS_server_method() : TLS_client_method());
  if (!ctx) return unexpected(openSslError("cannot create a TLS context"));
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_set_ciphersuites(ctx, kCipherSuites) != 1) {
    SSL_CTX_free(ctx);
    return unexpected(openSslError("cannot set the TLS 1.3 cipher suites"));
  }
  // Links live for hours: resumption would save nothing, and tickets cost a round of bytes.
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Without SSL_OP_ALLOW_NO_DHE_KEX, OpenSSL offers and accepts a PSK only with (EC)DHE
  // (psk_dhe_ke, RFC 8446 section 4.2.9): a stolen key file does not decrypt recorded links.
  if (role == Role::kGateway) {
    SSL_CTX_set_alpn_select_cb(ctx, onAlpn, nullptr);
  } else {
    unsigned char alpn[1 + kAlpn.size()];
    alpn[0] = static_cast<unsigned char>(kAlpn.size());
    std::memcpy(alpn + 1, kAlpn.data(), kAlpn.size());
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);  // returns 0 on success
  }
  return ctx;
}

Expected<std::unique_ptr<LinkSecurity>, std::string> LinkSecurity::load(Role role, const LinkCredentials& credentials,
                                                                      std::string gateway_name) {
  auto ctx = newContext(role);
  if (!ctx) return unexpected(ctx.error());
  std::unique_ptr<LinkSecurity> security(new LinkSecurity(role, std::move(gateway_name), *ctx));
  if (credentials.usesCertificates()) {
    if (std::string err = security->loadCertificates(credentials); !err.empty()) return unexpected(err);
    return security;
  }
  auto key = PreSharedKey::loadFile(credentials.key_file);
  if (!key) return unexpected(key.error());
  security->usePsk(*key);
  return security;
}

std::unique_ptr<LinkSecurity> LinkSecurity::fromKey(Role role, const PreSharedKey& key, std::string gateway_name) {
  auto ctx = newContext(role);
  if (!ctx) std::abort();  // only when OpenSSL cannot allocate
  std::unique_ptr<LinkSecurity> security(new LinkSecurity(role, std::move(gateway_name), *ctx));
  security->usePsk(key);
  return security;
}

std::unique_ptr<LinkSecurity> LinkSecurity::fromKeyBytes(Role role, std::string_view key, std::string gateway_name) {
  return fromKey(role, PreSharedKey::fromBytes(key), std::move(gateway_name));
}

void LinkSecurity::usePsk(const PreSharedKey& key) {
  use_psk_ = true;
  psk_ = key.linkPsk(gateway_name_);
  psk_identity_ = pskIdentity(gateway_name_);
  if (role_ == Role::kGateway) {
    // No certificate: a client that does not know the PSK has nothing to complete a handshake with.
    SSL_CTX_set_psk_find_session_callback(ctx_, onServerPsk);
  } else {
    SSL_CTX_set_psk_use_session_callback(ctx_, onClientPsk);
    // An empty trust store: a server that answers with a certificate instead of the PSK (a
    // relay with a key of its own) fails verification.
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
}

std::string LinkSecurity::loadCertificates(const LinkCredentials& c) {
  if (std::string err = tls::useCertificateAndKey(ctx_, c.cert_file, c.cert_key_file); !err.empty()) return err;
  if (SSL_CTX_load_verify_file(ctx_, c.ca_file.c_str()) != 1) return openSslError("cannot load the CA file " + c.ca_file);
  // Both sides must show a certificate from the private CA (the system's CAs are not trusted).
  SSL_CTX_set_verify(ctx_, role_ == Role::kGateway ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                     nullptr);
  return "";
}

std::unique_ptr<tls::TlsSession> LinkSecurity::newSession() const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) std::abort();  // only when OpenSSL cannot allocate
  if (role_ == Role::kInitiator) {
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, gateway_name_.c_str());
    // Certificates: the gateway's must name it (a DNS subjectAltName), so that an initiator
    // that meant gateway A cannot be spliced onto gateway B.
    if (!use_psk_) {
      // The name must be a subjectAltName: never the subject's CN (RFC 6125 section 6.4.4).
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
      SSL_set1_host(ssl, gateway_name_.c_str());
    }
  } else {
    SSL_set_accept_state(ssl);
  }
  return std::make_unique<tls::TlsSession>(ssl);
}

std::string LinkSecurity::checkPeer(const tls::TlsSession& session) const {
  SSL* ssl = session.ssl();
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) != kAlpn) {
    return "peer did not agree on ALPN " + std::string(kAlpn);
  }
  // With a PSK a completed handshake must have used it: "reused" is how OpenSSL reports that.
  if (use_psk_ && SSL_session_reused(ssl) != 1) return "handshake completed without the link key";
  if (!use_psk_) return checkPeerCertificate(ssl);
  return "";
}

// A verified chain is not enough: the certificate must be issued for the peer's role, so that
// a gateway's certificate and key, stolen, cannot open links as an initiator (and back).
std::string LinkSecurity::checkPeerCertificate(SSL* ssl) const {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return "peer certificate not verified";
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer) return "peer showed no certificate";
  bool has_eku = (X509_get_extension_flags(peer) & EXFLAG_XKUSAGE) != 0;
  uint32_t eku = X509_get_extended_key_usage(peer);
  if (role_ == Role::kGateway) {
    if (!has_eku || !(eku & XKU_SSL_CLIENT) || (eku & XKU_SSL_SERVER)) {
      return "initiator certificate must have extendedKeyUsage clientAuth, without serverAuth";
    }
  } else if (!has_eku || !(eku & XKU_SSL_SERVER) || (eku & XKU_SSL_CLIENT)) {
    return "gateway certificate must have extendedKeyUsage serverAuth, without clientAuth";
  }
  return "";
}

SSL_SESSION* LinkSecurity::pskSession(SSL* ssl) const {
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kAes128GcmSha256);
  SSL_SESSION* session = SSL_SESSION_new();
  if (!cipher || !session || SSL_SESSION_set1_master_key(session, psk_.data(), psk_.size()) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1 || SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  return session;
}

int LinkSecurity::onClientPsk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen,
                              SSL_SESSION** sess) {
  const LinkSecurity* self = securityOf(ssl);
  *sess = nullptr;
  // After a HelloRetryRequest OpenSSL asks again with the suite's hash: ours is SHA-256.
  if (md && !EVP_MD_is_a(md, "SHA256")) return 1;  // OpenSSL 3 passes a fetched digest: compare names
  *sess = self->pskSession(ssl);
  if (!*sess) return 0;
  *id = reinterpret_cast<const unsigned char*>(self->psk_identity_.data());
  *idlen = self->psk_identity_.size();
  return 1;
}

int LinkSecurity::onServerPsk(SSL* ssl, const unsigned char* id, size_t idlen, SSL_SESSION** sess) {
  const LinkSecurity* self = securityOf(ssl);
  *sess = nullptr;
  std::string_view identity(reinterpret_cast<const char*>(id), idlen);
  if (identity != self->psk_identity_) {
    // Not ours: the handshake goes on without a PSK and fails for want of a certificate.
    if (tls::TlsSession* session = tls::TlsSession::of(ssl)) {
      session->noteFailure("initiator asked for PSK identity '" + std::string(identity.substr(0, 80)) +
                           "'; this gateway is '" + self->psk_identity_ + "'");
    }
    return 1;
  }
  *sess = self->pskSession(ssl);
  return *sess ? 1 : 0;
}

int LinkSecurity::onAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                         unsigned int inlen, void*) {
  // in is a list of length-prefixed names (RFC 7301 section 3.1).
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == kAlpn) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol: not an lbmail initiator
}

}  // namespace lbmail::proto
