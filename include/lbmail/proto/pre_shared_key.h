// The deployment's link key, and the per-gateway TLS 1.3 pre-shared keys derived from it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

namespace lbmail::proto {

class PreSharedKey {
 public:
  static constexpr size_t kMinBytes = 16;
  static constexpr size_t kMaxFileBytes = 4096;
  using Derived = std::array<uint8_t, 32>;

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

  // The TLS 1.3 external PSK for links to the gateway of this name (docs/protocol.md, "TLS"):
  // HKDF-SHA256 (RFC 5869) with salt "lbmail-link/3" and info "psk " + name. Each gateway has
  // its own, so a link meant for one cannot be completed by another holding the same file.
  Derived linkPsk(std::string_view gateway_name) const;

 private:
  explicit PreSharedKey(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace lbmail::proto
