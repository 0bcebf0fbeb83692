// The secret the initiator signs feedback tokens with and every gateway checks them with: one
// file, the same on every node (docs/feedback.md). Its id travels in each token, so a second key
// can be added beside the first before the first is retired.
#pragma once

#include <cstddef>
#include <cstdint>
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

  FeedbackKey(const FeedbackKey&) = default;
  FeedbackKey& operator=(const FeedbackKey&) = default;
  FeedbackKey(FeedbackKey&&) = default;
  FeedbackKey& operator=(FeedbackKey&&) = default;
  ~FeedbackKey();  // wipes the secret

  uint8_t id() const { return id_; }
  const std::string& secret() const { return secret_; }

 private:
  FeedbackKey(std::string secret, uint8_t id) : secret_(std::move(secret)), id_(id) {}
  std::string secret_;
  uint8_t id_ = 0;
};

}  // namespace lbmail::feedback
