// Pre-shared key loading and the handshake's HMAC-SHA256 proofs (OpenSSL libcrypto).
#include "lbmail/proto/pre_shared_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbmail::proto {
namespace {

std::string_view label(Role prover) {
  return prover == Role::kGateway ? "lbmail/1 gateway proof" : "lbmail/1 initiator proof";
}

// Why the open key file must not be trusted, or "" when it may be: a small regular file
// that only the running user can read (group and others could learn the link's secret).
std::string keyFileProblem(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "cannot read key file " + path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "key file " + path + " is not a regular file";
  if (st.st_size > 4096) return "key file " + path + " is larger than 4 KiB";
  if (st.st_uid != ::geteuid()) {
    return "key file " + path + " is owned by uid " + std::to_string(st.st_uid) + ", not by the running user (uid " +
           std::to_string(::geteuid()) + ")";
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return "key file " + path + " is accessible to its group or other users; chmod 0600 it";
  }
  return "";
}

// The key's bytes from the open file, once keyFileProblem finds none.
Expected<std::string, std::string> readOpenKey(int fd, const std::string& path) {
  if (std::string problem = keyFileProblem(fd, path); !problem.empty()) return unexpected(problem);
  std::string key(4097, '\0');
  size_t got = 0;
  while (got < key.size()) {
    ssize_t n = ::read(fd, key.data() + got, key.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      OPENSSL_cleanse(key.data(), key.size());
      return unexpected("cannot read key file " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > 4096) {  // grew since fstat
    OPENSSL_cleanse(key.data(), key.size());
    return unexpected("key file " + path + " is larger than 4 KiB");
  }
  key.resize(got);
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (!key.empty() && key.back() == '\r') key.pop_back();
  if (key.size() < PreSharedKey::kMinBytes) {
    OPENSSL_cleanse(key.data(), key.size());
    return unexpected("key file " + path + " holds fewer than " + std::to_string(PreSharedKey::kMinBytes) + " bytes");
  }
  return key;
}

}  // namespace

Expected<PreSharedKey, std::string> PreSharedKey::loadFile(const std::string& path) {
  // One open, then every check on that descriptor: checking the path with stat and opening it
  // afterwards lets the file be swapped between the two. O_NOFOLLOW refuses a symlink, whose
  // target another user may control; O_NONBLOCK keeps a FIFO from blocking start-up.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ELOOP) return unexpected("key file " + path + " is a symbolic link; name the file itself");
    return unexpected("cannot read key file " + path + ": " + std::strerror(errno));
  }
  Expected<std::string, std::string> key = readOpenKey(fd, path);
  ::close(fd);
  if (!key) return unexpected(key.error());
  return PreSharedKey(std::move(*key));
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
