// What secures the links to one gateway: a TLS 1.3 context for one side (initiator = client,
// gateway = server), authenticated by the deployment's key file (external PSK with ECDHE) or by
// certificates from a private CA, and bound to the gateway's name (docs/protocol.md, "TLS").
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "lbmail/proto/frames.h"
#include "lbmail/proto/link_credentials.h"
#include "lbmail/proto/pre_shared_key.h"
#include "lbmail/tls/tls_session.h"

namespace lbmail::proto {

class LinkSecurity {
 public:
  // ALPN protocol name (RFC 7301): the gateway answers no other.
  static constexpr std::string_view kAlpn = "lbmail-link/3";
  // The PSK identity an initiator offers for the gateway of this name.
  static std::string pskIdentity(std::string_view gateway_name);

  // For links to (initiator) or of (gateway) the gateway named gateway_name.
  static Expected<std::unique_ptr<LinkSecurity>, std::string> load(Role role, const LinkCredentials& credentials,
                                                                 std::string gateway_name);
  static std::unique_ptr<LinkSecurity> fromKey(Role role, const PreSharedKey& key, std::string gateway_name);
  static std::unique_ptr<LinkSecurity> fromKeyBytes(Role role, std::string_view key, std::string gateway_name);

  LinkSecurity(const LinkSecurity&) = delete;
  LinkSecurity& operator=(const LinkSecurity&) = delete;
  ~LinkSecurity();

  // A TLS session for one new link.
  std::unique_ptr<tls::TlsSession> newSession() const;
  // After the handshake: why the peer must not be trusted, or "" (the PSK or a verified
  // certificate authenticated it, and it speaks this protocol).
  std::string checkPeer(const tls::TlsSession& session) const;

  Role role() const { return role_; }
  const std::string& gatewayName() const { return gateway_name_; }
  bool usesPsk() const { return use_psk_; }

 private:
  LinkSecurity(Role role, std::string gateway_name, SSL_CTX* ctx);
  static Expected<SSL_CTX*, std::string> newContext(Role role);
  std::string loadCertificates(const LinkCredentials& credentials);
  void usePsk(const PreSharedKey& key);
  SSL_SESSION* pskSession(SSL* ssl) const;
  std::string checkPeerCertificate(SSL* ssl) const;

  static int onClientPsk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** sess);
  static int onServerPsk(SSL* ssl, const unsigned char* id, size_t idlen, SSL_SESSION** sess);
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                    unsigned int inlen, void* arg);

  Role role_;
  std::string gateway_name_;
  SSL_CTX* ctx_;
  bool use_psk_ = false;
  std::string psk_identity_;
  PreSharedKey::Derived psk_{};
};

}  // namespace lbmail::proto
