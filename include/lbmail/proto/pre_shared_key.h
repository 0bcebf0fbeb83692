// The key both ends of a link hold, and the HMAC-SHA256 proofs of the mutual handshake.
#pragma once

#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "lbmail/proto/frames.h"

namespace lbmail::proto {

class PreSharedKey {
 public:
  static constexpr size_t kMinBytes = 16;

  // Reads the key file: its bytes, less one trailing newline, are the key (at least kMinBytes).
  // The file must be the running user's own, not a symlink, with no group or other permission
  // bits (0600 or 0400): the key is what stands between a gateway and an open relay.
  static Expected<PreSharedKey, std::string> loadFile(const std::string& path);
  static PreSharedKey fromBytes(std::string_view bytes);

  PreSharedKey(const PreSharedKey&) = default;
  PreSharedKey& operator=(const PreSharedKey&) = default;
  PreSharedKey(PreSharedKey&&) = default;
  PreSharedKey& operator=(PreSharedKey&&) = default;
  ~PreSharedKey();

  // Each side proves with its own role's label over both nonces, so one side's proof can never
  // be replayed as the other's, and a fresh nonce from each side defeats replays across links.
  Proof prove(Role prover, const Nonce& initiator_nonce, const Nonce& gateway_nonce) const;
  bool verify(Role prover, const Nonce& initiator_nonce, const Nonce& gateway_nonce, const Proof& proof) const;

  static Nonce freshNonce();

 private:
  explicit PreSharedKey(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace lbmail::proto
