// The feedback key file: hex or raw secret bytes, read once from an owner-only file.
#include "lbmail/feedback/feedback_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ascii_text.h"
#include "lbmail/core/private_file.h"

namespace lbmail::feedback {
namespace {

int hexValue(char c) {
  if (isAsciiDigit(c)) return c - '0';
  char l = asciiLower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

bool allHex(std::string_view s) {
  for (char c : s) {
    if (hexValue(c) < 0) return false;
  }
  return true;
}

// The secret the file's trimmed text stands for, or why it cannot be one.
Expected<std::string, std::string> secretOf(std::string_view text, const std::string& path) {
  const std::string name = "feedback key file " + path;
  if (!text.empty() && allHex(text)) {
    if (text.size() < 2 * FeedbackKey::kMinSecretBytes) {
      return unexpected(name + " holds " + std::to_string(text.size()) + " hex digits; at least " +
                        std::to_string(2 * FeedbackKey::kMinSecretBytes) + " are needed (openssl rand -hex 32)");
    }
    if (text.size() % 2 != 0) return unexpected(name + " holds an odd number of hex digits");
    std::string secret(text.size() / 2, '\0');
    for (size_t i = 0; i < secret.size(); ++i) {
      secret[i] = static_cast<char>(hexValue(text[2 * i]) * 16 + hexValue(text[2 * i + 1]));
    }
    return secret;
  }
  if (text.size() < FeedbackKey::kMinSecretBytes) {
    return unexpected(name + " holds " + std::to_string(text.size()) + " bytes; at least " +
                      std::to_string(FeedbackKey::kMinSecretBytes) + " are needed (openssl rand -hex 32)");
  }
  return std::string(text);
}

}  // namespace

Expected<FeedbackKey, std::string> FeedbackKey::load(const std::string& path, uint8_t id) {
  Expected<std::string, std::string> bytes = readPrivateFile(path, "feedback key file", kMaxFileBytes);
  if (!bytes) return unexpected(bytes.error());
  Expected<std::string, std::string> secret = secretOf(trimWhiteSpace(*bytes), path);
  wipeSecret(*bytes);
  if (!secret) return unexpected(secret.error());
  return FeedbackKey(std::move(*secret), id);
}

FeedbackKey FeedbackKey::fromSecret(std::string_view secret, uint8_t id) { return FeedbackKey(std::string(secret), id); }

FeedbackKey::~FeedbackKey() { wipeSecret(secret_); }

FeedbackKey& FeedbackKey::operator=(const FeedbackKey& other) {
  if (this == &other) return *this;
  wipeSecret(secret_);
  secret_ = other.secret_;
  id_ = other.id_;
  mac_.reset();
  return *this;
}

void FeedbackKey::MacContextFree::operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }

bool FeedbackKey::keyMac() const {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return false;
  std::unique_ptr<EVP_MAC_CTX, MacContextFree> ctx(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context holds its own reference
  if (!ctx) return false;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size(), params) != 1) {
    return false;
  }
  mac_ = std::move(ctx);
  return true;
}

bool FeedbackKey::hmacSha256(const uint8_t* data, size_t n, uint8_t (&out)[kMacBytes]) const {
  if (!mac_ && !keyMac()) return false;
  // A null key restarts the MAC from the pads the first init hashed (OpenSSL's HMAC provider
  // reinitialises with the key it holds).
  size_t len = 0;
  bool ok = EVP_MAC_init(mac_.get(), nullptr, 0, nullptr) == 1 && EVP_MAC_update(mac_.get(), data, n) == 1 &&
            EVP_MAC_final(mac_.get(), out, &len, kMacBytes) == 1 && len == kMacBytes;
  if (!ok) mac_.reset();  // keyed afresh next time
  return ok;
}

}  // namespace lbmail::feedback
