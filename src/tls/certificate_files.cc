// Certificates and private keys from PEM files (OpenSSL libssl).
#include "lbmail/tls/certificate_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "lbmail/core/private_file.h"

namespace lbmail::tls {
namespace {

constexpr size_t kMaxPemKeyBytes = 16 * 1024;

}  // namespace

std::string openSslError(const std::string& what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return what + ": " + text;
}

Expected<EVP_PKEY*, std::string> readPrivateKey(const std::string& path) {
  auto pem = readPrivateFile(path, "TLS key file", kMaxPemKeyBytes);
  if (!pem) return unexpected(pem.error());
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  // No passphrase callback would make OpenSSL ask for one on the terminal: a daemon must not
  // block on that, so an encrypted key is refused.
  auto no_passphrase = [](char*, int, int, void*) { return -1; };
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr) : nullptr;
  BIO_free(bio);
  wipeSecret(*pem);
  if (!key) {
    return unexpected(openSslError("TLS key file " + path +
                                   " holds no unencrypted PEM private key (lbmail reads no passphrase)"));
  }
  return key;
}

std::string useCertificateAndKey(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return openSslError("cannot load the TLS certificate " + cert_file);
  }
  auto key = readPrivateKey(key_file);
  if (!key) return key.error();
  int used = SSL_CTX_use_PrivateKey(ctx, *key);
  EVP_PKEY_free(*key);
  if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return openSslError("TLS key file " + key_file + " does not match " + cert_file);
  }
  return "";
}

}  // namespace lbmail::tls
