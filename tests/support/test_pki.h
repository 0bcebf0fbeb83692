// A private certificate authority for TLS tests: a CA and leaf certificates for given names
// (valid, expired, self-signed), made with the openssl command in a fresh temporary directory.
#pragma once

#include <string>
#include <vector>

namespace lbmail::test {

// PEM files of one certificate and its private key (EC P-256, mode 0600).
struct TestCertificate {
  std::string cert;
  std::string key;
};

class TestPki {
 public:
  // Makes the directory and the CA (LBMAIL_OPENSSL from the test environment, else
  // /usr/bin/openssl). ok() says whether it worked, error() why not.
  TestPki();
  ~TestPki();  // removes the directory and everything in it
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  // The CA's certificate: the trust anchor a verifying client is given.
  const std::string& caFile() const { return ca_.cert; }

  // A leaf for a TLS server signed by the CA, valid from a day ago for 30 days, with names[0]
  // as its CN and every name as a subjectAltName (DNS, or IP for an address literal). label
  // names the files (label.pem, label.key) and must be unique within this TestPki. On failure
  // the paths are empty and error() says why.
  TestCertificate leaf(const std::string& label, const std::vector<std::string>& names);
  // The same, signed by the CA, but its validity ended in 2020.
  TestCertificate expiredLeaf(const std::string& label, const std::vector<std::string>& names);
  // The same names, signed by its own key: no CA vouches for it.
  TestCertificate selfSigned(const std::string& label, const std::vector<std::string>& names);

  // The TLSA association data of a certificate file as lowercase hex (RFC 6698 section 2.1):
  // SHA-256 of the whole certificate (selector 0, matching type 1) or of its
  // SubjectPublicKeyInfo (selector 1, matching type 1). "" when openssl fails.
  std::string certificateSha256(const std::string& cert_path);
  std::string publicKeySha256(const std::string& cert_path);

 private:
  // Runs openssl with args; false (and error_ set) when it fails. out receives its stdout.
  bool openssl(const std::vector<std::string>& args, std::string* out = nullptr);
  std::string key(const std::string& label);
  TestCertificate signedLeaf(const std::string& label, const std::vector<std::string>& names, bool expired);
  std::string sha256Hex(const std::string& der_path);

  std::string openssl_path_;
  std::string dir_;
  std::string error_;
  TestCertificate ca_;
};

}  // namespace lbmail::test
