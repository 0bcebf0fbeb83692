// Pre-shared key loading and the handshake's HMAC-SHA256 proofs (OpenSSL libcrypto).
#include "lbmail/proto/pre_shared_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace lbmail::proto {
namespace {

std::string_view label(Role prover) {
  return prover == Role::kGateway ? "lbmail/1 gateway proof" : "lbmail/1 initiator proof";
}

}  // namespace

Expected<PreSharedKey, std::string> PreSharedKey::loadFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return unexpected("cannot read key file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return unexpected("key file " + path + " is not a regular file");
  if (st.st_size > 4096) return unexpected("key file " + path + " is larger than 4 KiB");
  if (st.st_mode & S_IRWXO) {
    return unexpected("key file " + path + " is accessible to other users; chmod o-rwx (0600 is best)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("cannot read key file " + path);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (!key.empty() && key.back() == '\r') key.pop_back();
  if (key.size() < kMinBytes) {
    OPENSSL_cleanse(key.data(), key.size());
    return unexpected("key file " + path + " holds fewer than " + std::to_string(kMinBytes) + " bytes");
  }
  return PreSharedKey(std::move(key));
}

PreSharedKey PreSharedKey::fromBytes(std::string_view bytes) { return PreSharedKey(std::string(bytes)); }

PreSharedKey::~PreSharedKey() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

Proof PreSharedKey::prove(Role prover, const Nonce& initiator_nonce, const Nonce& gateway_nonce) const {
  std::string_view l = label(prover);
  uint8_t message[64 + kNonceSize * 2];
  size_t n = 0;
  std::memcpy(message + n, l.data(), l.size());
  n += l.size();
  message[n++] = 0;
  std::memcpy(message + n, initiator_nonce.data(), kNonceSize);
  n += kNonceSize;
  std::memcpy(message + n, gateway_nonce.data(), kNonceSize);
  n += kNonceSize;
  Proof out{};
  unsigned int len = 0;
  // A failed HMAC would leave an all-zero proof that a forger could match: stop instead.
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), message, n, out.data(), &len) == nullptr ||
      len != kProofSize) {
    abort();
  }
  return out;
}

bool PreSharedKey::verify(Role prover, const Nonce& initiator_nonce, const Nonce& gateway_nonce,
                          const Proof& proof) const {
  Proof expected = prove(prover, initiator_nonce, gateway_nonce);
  return CRYPTO_memcmp(expected.data(), proof.data(), kProofSize) == 0;
}

Nonce PreSharedKey::freshNonce() {
  Nonce n{};
  // RAND_bytes only fails when the system has no entropy source at all; nothing can go on then.
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1) abort();
  return n;
}

}  // namespace lbmail::proto
