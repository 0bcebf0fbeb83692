// The link key file and its per-gateway derivations (OpenSSL libcrypto's HKDF).
#include "lbmail/proto/pre_shared_key.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstdlib>

#include "lbmail/core/private_file.h"

namespace lbmail::proto {

Expected<PreSharedKey, std::string> PreSharedKey::loadFile(const std::string& path) {
  Expected<std::string, std::string> bytes = readPrivateFile(path, "key file", kMaxFileBytes);
  if (!bytes) return unexpected(bytes.error());
  std::string key = std::move(*bytes);
  if (!key.empty() && key.back() == '\n') key.pop_back();
  if (!key.empty() && key.back() == '\r') key.pop_back();
  if (key.size() < kMinBytes) {
    wipeSecret(key);
    return unexpected("key file " + path + " holds fewer than " + std::to_string(kMinBytes) + " bytes");
  }
  return PreSharedKey(std::move(key));
}

PreSharedKey PreSharedKey::fromBytes(std::string_view bytes) { return PreSharedKey(std::string(bytes)); }

PreSharedKey::~PreSharedKey() { wipeSecret(key_); }

PreSharedKey::Derived PreSharedKey::linkPsk(std::string_view gateway_name) const {
  static constexpr char kSalt[] = "lbmail-link/3";
  std::string info = "psk " + std::string(gateway_name);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(key_.data()), key_.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kSalt), sizeof kSalt - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end(),
  };
  Derived out{};
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  bool ok = ctx && EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  // A failed derivation would leave an all-zero key that anyone could use: stop instead.
  if (!ok) std::abort();
  return out;
}

}  // namespace lbmail::proto
