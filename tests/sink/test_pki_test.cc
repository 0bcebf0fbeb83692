// The test CA (tests/support/test_pki.h), checked by openssl verify: the certificates the TLS
// tests rely on are what their names say.
#include "test_pki.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "child_process.h"

namespace lbmail::test {
namespace {

struct Verdict {
  bool ok;
  std::string text;
};

Verdict verify(const TestPki& pki, const std::string& cert, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"/usr/bin/openssl", "verify", "-CAfile", pki.caFile()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(cert);
  ChildProcess child(argv);
  int status = child.wait();
  return {exitCode(status) == 0, child.out() + child.err()};
}

// The SHA-256 fingerprint openssl x509 prints, as lowercase hex without colons.
std::string fingerprint(const std::string& cert) {
  ChildProcess child({"/usr/bin/openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"});
  child.wait();
  std::string hex;
  std::string out = child.out();
  for (size_t i = out.find('=') + 1; i < out.size(); ++i) {
    if (std::isxdigit(static_cast<unsigned char>(out[i]))) hex += static_cast<char>(std::tolower(out[i]));
  }
  return hex;
}

TEST(TestPkiTest, ValidLeafVerifiesForItsNamesOnly) {
  TestPki pki;
  ASSERT_TRUE(pki.ok()) << pki.error();
  TestCertificate c = pki.leaf("mx", {"mx.example.test", "127.0.0.1"});
  ASSERT_TRUE(pki.ok()) << pki.error();
  Verdict v = verify(pki, c.cert, {"-verify_hostname", "mx.example.test"});
  EXPECT_TRUE(v.ok) << v.text;
  v = verify(pki, c.cert, {"-verify_ip", "127.0.0.1"});
  EXPECT_TRUE(v.ok) << v.text;
  v = verify(pki, c.cert, {"-verify_hostname", "other.example.test"});
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.text.find("hostname mismatch"), std::string::npos) << v.text;
}

TEST(TestPkiTest, ExpiredLeafIsRefusedAsExpired) {
  TestPki pki;
  TestCertificate c = pki.expiredLeaf("old", {"mx.example.test"});
  ASSERT_TRUE(pki.ok()) << pki.error();
  Verdict v = verify(pki, c.cert, {});
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.text.find("expired"), std::string::npos) << v.text;
}

TEST(TestPkiTest, SelfSignedIsNotVouchedForByTheCa) {
  TestPki pki;
  TestCertificate c = pki.selfSigned("self", {"mx.example.test"});
  ASSERT_TRUE(pki.ok()) << pki.error();
  Verdict v = verify(pki, c.cert, {});
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.text.find("self-signed"), std::string::npos) << v.text;
}

TEST(TestPkiTest, TlsaDigestsOfCertificateAndPublicKey) {
  TestPki pki;
  TestCertificate c = pki.leaf("mx", {"mx.example.test"});
  ASSERT_TRUE(pki.ok()) << pki.error();
  std::string cert_digest = pki.certificateSha256(c.cert);
  std::string key_digest = pki.publicKeySha256(c.cert);
  EXPECT_EQ(cert_digest, fingerprint(c.cert));
  EXPECT_EQ(key_digest.size(), 64u);
  EXPECT_NE(key_digest, cert_digest);
  // Each certificate has its own digest, even for the same name.
  EXPECT_NE(pki.certificateSha256(pki.leaf("mx2", {"mx.example.test"}).cert), cert_digest);
}

TEST(TestPkiTest, DirectoryIsRemoved) {
  std::string dir;
  {
    TestPki pki;
    ASSERT_TRUE(pki.ok()) << pki.error();
    dir = pki.dir();
    EXPECT_EQ(access(pki.caFile().c_str(), R_OK), 0);
  }
  EXPECT_NE(access(dir.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace lbmail::test
