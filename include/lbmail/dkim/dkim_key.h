// A DKIM private key (RFC 6376, RFC 8463): loaded once from an owner-only PEM file, then used
// read-only by every signer thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace lbmail::dkim {

enum class Algorithm { kRsaSha256, kEd25519Sha256 };

// The a= tag's value: "rsa-sha256" or "ed25519-sha256".
std::string_view algorithmName(Algorithm a);

struct DkimKeyConfig {
  std::string domain, selector;
  Algorithm algorithm = Algorithm::kRsaSha256;
  std::string key_file;
};

// Copyable: copies share the one EVP_PKEY, which OpenSSL only reads once loaded.
class DkimKey {
 public:
  // Reads key_file with readPrivateFile (same permission rules as the link key), parses PEM
  // (PKCS#8 or traditional RSA), checks it is the algorithm's type and RSA >= 1024 bits.
  // Errors name the key: "dkim key example.com/s1 (/path/k.pem): ...".
  static Expected<DkimKey, std::string> load(const DkimKeyConfig& c);
  static Expected<DkimKey, std::string> fromPem(std::string domain, std::string selector, Algorithm a,
                                                std::string_view pem);

  const std::string& domain() const { return domain_; }
  const std::string& selector() const { return selector_; }
  Algorithm algorithm() const { return algorithm_; }
  int bits() const { return bits_; }

  // The raw signature over header data: rsa-sha256 = RSASSA-PKCS1-v1_5 with SHA-256 over data
  // (RFC 6376 3.3.1); ed25519-sha256 = PureEd25519 over SHA-256(data) (RFC 8463 section 3).
  // Thread-safe: each call has its own EVP_MD_CTX. An error ("signing failed: <OpenSSL's
  // reason>") only if OpenSSL fails.
  Expected<std::string, std::string> sign(std::string_view data) const;

  // The TXT record's text: "v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo DER>", or for
  // ed25519 "v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte public key>" (RFC 8463 4.2).
  std::string dnsRecordText() const;

 private:
  // name: how errors name the key ("dkim key D/S" and, when loaded, its file).
  static Expected<DkimKey, std::string> parse(std::string domain, std::string selector, Algorithm a,
                                              std::string_view pem, const std::string& name);
  DkimKey(std::string domain, std::string selector, Algorithm a, std::shared_ptr<EVP_PKEY> key, int bits)
      : domain_(std::move(domain)), selector_(std::move(selector)), algorithm_(a), key_(std::move(key)), bits_(bits) {}

  std::string domain_, selector_;
  Algorithm algorithm_;
  std::shared_ptr<EVP_PKEY> key_;
  int bits_;
};

}  // namespace lbmail::dkim
