// Self-signed certificates with the OpenSSL API (no openssl command needed at run time).
#include "lbmail/tls/self_signed_certificate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "lbmail/tls/certificate_files.h"

namespace lbmail::tls {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

bool isAddressLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

bool addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool added = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return added;
}

std::string subjectAltNames(const std::vector<std::string>& names) {
  std::string san;
  for (const std::string& n : names) san += (san.empty() ? "" : ",") + std::string(isAddressLiteral(n) ? "IP:" : "DNS:") + n;
  return san;
}

// The certificate's fields and extensions (RFC 5280), signed by key.
std::unique_ptr<X509, CertFree> makeCertificate(EVP_PKEY* key, const std::vector<std::string>& names, int days) {
  std::unique_ptr<X509, CertFree> cert(X509_new());
  if (!cert) return nullptr;
  unsigned char serial[16];
  BIGNUM* bn = nullptr;
  bool ok = X509_set_version(cert.get(), 2) == 1 && RAND_bytes(serial, sizeof serial) == 1;
  serial[0] &= 0x7f;  // a positive serial number (RFC 5280 section 4.1.2.2)
  ok = ok && (bn = BN_bin2bn(serial, sizeof serial, nullptr)) != nullptr &&
       BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400) != nullptr &&
       X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(names[0].c_str()), -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), subject) == 1 && X509_set_pubkey(cert.get(), key) == 1 &&
       addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
       addExtension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
       addExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
       addExtension(cert.get(), NID_subject_alt_name, subjectAltNames(names)) &&
       X509_sign(cert.get(), key, EVP_sha256()) > 0;
  return ok ? std::move(cert) : nullptr;
}

// Writes what bio holds to path with mode 0600, replacing the file.
std::string writePrivately(const std::string& path, BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  ::unlink(path.c_str());  // a file left by someone else keeps neither its owner nor its mode
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create " + path;
  bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, data, static_cast<size_t>(size)) == size;
  written = ::close(fd) == 0 && written;
  return written ? "" : "cannot write " + path;
}

}  // namespace

std::string writeSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                       const std::vector<std::string>& names, int days) {
  if (names.empty()) return "a certificate needs at least one name";
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return openSslError("cannot make an EC P-256 key");
  auto cert = makeCertificate(key.get(), names, days);
  if (!cert) return openSslError("cannot make a certificate for " + names[0]);
  // The key's PEM lives in memory that is wiped when freed.
  std::unique_ptr<BIO, BioFree> key_pem(BIO_new(BIO_s_secmem()));
  std::unique_ptr<BIO, BioFree> cert_pem(BIO_new(BIO_s_mem()));
  if (!key_pem || !cert_pem || PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cert_pem.get(), cert.get()) != 1) {
    return openSslError("cannot encode the certificate for " + names[0]);
  }
  if (std::string err = writePrivately(key_path, key_pem.get()); !err.empty()) return err;
  return writePrivately(cert_path, cert_pem.get());
}

}  // namespace lbmail::tls
