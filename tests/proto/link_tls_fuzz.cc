// libFuzzer target for what a gateway does with the first bytes of a link: the TLS 1.3
// server (OpenSSL, with our PSK-identity and ALPN callbacks) and, once it completes, the
// checks on the peer and the first records. Seeds hold ClientHellos of a real initiator for
// the fuzz gateway's name and key, so that mutations reach the PSK and ALPN callbacks.
#include <cstddef>
#include <cstdint>

#include "lbmail/proto/link_security.h"

namespace {

using namespace lbmail;
using namespace lbmail::proto;

const LinkSecurity& gateway() {
  static auto security = LinkSecurity::fromKeyBytes(Role::kGateway, "link fuzz key, 32 bytes long...", "gw-fuzz");
  return *security;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto session = gateway().newSession();
  session->feed(data, size);
  if (session->handshake() == tls::TlsSession::Status::kOk) {
    (void)gateway().checkPeer(*session);
    uint8_t plain[4096];
    size_t got = 0;
    while (session->read(plain, sizeof plain, &got) == tls::TlsSession::Status::kOk) {
    }
  }
  BufferList out;
  session->takeOutput(out);
  return 0;
}
