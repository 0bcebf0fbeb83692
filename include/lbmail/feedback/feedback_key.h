// The secret the initiator signs feedback tokens with and every gateway checks them with: one
// file, the same on every node (docs/feedback.md). Its id travels in each token, so a second key
// can be added beside the first before the first is retired.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

namespace lbmail::feedback {

class FeedbackKey {
 public:
  // At least 32 bytes of secret: the file holds either 64 or more hex digits (what
  // `openssl rand -hex 32` writes) or raw bytes; surrounding white space is ignored. A key
  // that is too short, or a file that cannot be read, is an error naming the path. The file
  // must be the running user's own, not a symlink, mode 0600 or 0400 (readPrivateFile).
  static Expected<FeedbackKey, std::string> load(const std::string& path, uint8_t id);
  // For tests and tools: the secret as given (no length check).
  static FeedbackKey fromSecret(std::string_view secret, uint8_t id);

  static constexpr size_t kMinSecretBytes = 32;
  static constexpr size_t kMaxFileBytes = 4096;

  // A copy has the secret and the id; it keys its own HMAC context on first use.
  FeedbackKey(const FeedbackKey& other) : secret_(other.secret_), id_(other.id_) {}
  FeedbackKey& operator=(const FeedbackKey& other);
  FeedbackKey(FeedbackKey&&) = default;
  FeedbackKey& operator=(FeedbackKey&&) = default;
  ~FeedbackKey();  // wipes the secret

  uint8_t id() const { return id_; }
  const std::string& secret() const { return secret_; }

  static constexpr size_t kMacBytes = 32;
  // HMAC-SHA256 of data with this key into out. The key's pads are hashed once, on the first
  // call, and every later call starts from them: 2 SHA-256 blocks for a token's 14 bytes, where
  // OpenSSL's one-shot HMAC() fetches the digest and hashes the key again each time (about 4×
  // the work, perf/feedback_bench). One object is for one thread at a time (copies are apart).
  // False only when OpenSSL fails (out of memory).
  bool hmacSha256(const uint8_t* data, size_t n, uint8_t (&out)[kMacBytes]) const;

 private:
  struct MacContextFree {
    void operator()(EVP_MAC_CTX* ctx) const;
  };

  FeedbackKey(std::string secret, uint8_t id) : secret_(std::move(secret)), id_(id) {}
  bool keyMac() const;

  std::string secret_;
  uint8_t id_ = 0;
  mutable std::unique_ptr<EVP_MAC_CTX, MacContextFree> mac_;  // keyed on first use
};

}  // namespace lbmail::feedback
