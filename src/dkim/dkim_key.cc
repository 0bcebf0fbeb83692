// DKIM private keys: PEM parsing, type and size checks, raw signatures, the public DNS record.
#include "lbmail/dkim/dkim_key.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <vector>

#include "dkim_text.h"
#include "lbmail/core/private_file.h"

namespace lbmail::dkim {
namespace {

constexpr size_t kMaxPemBytes = 64 * 1024;  // an 8192-bit RSA key is under 7 KB of PEM
// RFC 8301 section 3.2: verifiers must not consider signatures from keys under 1024 bits valid.
constexpr int kMinRsaBits = 1024;

std::string openSslReason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return std::string(": ") + text;
}

// The passphrase callback: lbmail never asks for a passphrase (OpenSSL's default would prompt
// on the terminal and hang a gateway, or fail with "UI routines::processing error" without
// one). Being called means the key is encrypted; -1 makes the read fail.
int refusePassphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

std::string keyName(const std::string& domain, const std::string& selector) {
  return "dkim key " + domain + "/" + selector;
}

// The public key's p= value (RFC 6376 3.6.1 for RSA, RFC 8463 4.2 for Ed25519).
std::string publicKeyBase64(EVP_PKEY* key, Algorithm a) {
  if (a == Algorithm::kEd25519Sha256) {
    unsigned char raw[32];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1) return "";
    return base64(raw, len);
  }
  int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return "";
  std::vector<unsigned char> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  i2d_PUBKEY(key, &p);
  return base64(der.data(), der.size());
}

}  // namespace

std::string_view algorithmName(Algorithm a) {
  return a == Algorithm::kEd25519Sha256 ? "ed25519-sha256" : "rsa-sha256";
}

Expected<DkimKey, std::string> DkimKey::load(const DkimKeyConfig& c) {
  std::string name = keyName(c.domain, c.selector) + " (" + c.key_file + ")";
  auto pem = readPrivateFile(c.key_file, "file", kMaxPemBytes);
  if (!pem) return unexpected(name + ": " + pem.error());
  auto key = parse(c.domain, c.selector, c.algorithm, *pem, name);
  wipeSecret(*pem);
  return key;
}

Expected<DkimKey, std::string> DkimKey::fromPem(std::string domain, std::string selector, Algorithm a,
                                                std::string_view pem) {
  std::string name = keyName(domain, selector);
  return parse(std::move(domain), std::move(selector), a, pem, name);
}

Expected<DkimKey, std::string> DkimKey::parse(std::string domain, std::string selector, Algorithm a,
                                              std::string_view pem, const std::string& name) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  // PEM_read_bio_PrivateKey takes PKCS#8 ("PRIVATE KEY") and traditional ("RSA PRIVATE KEY").
  bool encrypted = false;
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio, nullptr, refusePassphrase, &encrypted) : nullptr;
  BIO_free(bio);
  if (encrypted) {
    if (raw) EVP_PKEY_free(raw);
    ERR_clear_error();
    return unexpected(name + ": the key is encrypted; lbmail needs an unencrypted key (decrypt it with "
                             "'openssl pkey -in KEY -out NEW_KEY' and keep NEW_KEY mode 0600)");
  }
  if (!raw) return unexpected(name + ": holds no unencrypted PEM private key" + openSslReason());
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  const char* type = a == Algorithm::kEd25519Sha256 ? "ED25519" : "RSA";
  if (!EVP_PKEY_is_a(raw, type)) {
    return unexpected(name + ": the key is not an " + type + " key, as algorithm " +
                      std::string(algorithmName(a)) + " needs");
  }
  int bits = EVP_PKEY_get_bits(raw);
  if (a == Algorithm::kRsaSha256 && bits < kMinRsaBits) {
    return unexpected(name + ": the RSA key has " + std::to_string(bits) + " bits; DKIM needs at least " +
                      std::to_string(kMinRsaBits) + " (RFC 8301)");
  }
  return DkimKey(std::move(domain), std::move(selector), a, std::move(key), bits);
}

Expected<std::string, std::string> DkimKey::sign(std::string_view data) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  const EVP_MD* md = EVP_sha256();
  std::string_view input = data;
  if (algorithm_ == Algorithm::kEd25519Sha256) {
    // RFC 8463 section 3: Ed25519 signs the SHA-256 hash, not the data itself; PureEd25519
    // takes no digest of its own (md null).
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) {
      return unexpected("signing failed" + openSslReason());
    }
    input = std::string_view(reinterpret_cast<const char*>(digest), len);
    md = nullptr;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig;
  size_t len = 0;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, md, nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, nullptr, 0) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  // The first queued error says why (openSslReason also empties this thread's queue).
  if (!ok) return unexpected("signing failed" + openSslReason());
  ERR_clear_error();
  return sig;
}

std::string DkimKey::dnsRecordText() const {
  const char* k = algorithm_ == Algorithm::kEd25519Sha256 ? "ed25519" : "rsa";
  return std::string("v=DKIM1; k=") + k + "; p=" + publicKeyBase64(key_.get(), algorithm_);
}

}  // namespace lbmail::dkim
