// Tests for self-signed certificates: what the openssl command reads in them, the files' mode,
// and that a TLS context takes the pair.
#include "lbmail/tls/self_signed_certificate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "child_process.h"
#include "lbmail/tls/certificate_files.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::tls {
namespace {

struct OpensslResult {
  bool ok;
  std::string out;
};

OpensslResult openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::testEnv("LBMAIL_OPENSSL")};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ChildProcess child(argv);
  int status = child.wait();
  return {test::exitCode(status) == 0, child.out() + child.err()};
}

mode_t modeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

class SelfSignedCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::tempPath("self-signed");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SelfSignedCertificateTest, NamesKeyAndSignatureAreWhatAServerNeeds) {
  std::string cert = dir_ + "/mx.pem", key = dir_ + "/mx.key";
  ASSERT_EQ(writeSelfSignedCertificate(cert, key, {"mx.g1.sim", "127.0.0.1"}), "");
  EXPECT_EQ(modeOf(cert), 0600u);
  EXPECT_EQ(modeOf(key), 0600u);
  OpensslResult text = openssl({"x509", "-in", cert, "-noout", "-text"});
  ASSERT_TRUE(text.ok) << text.out;
  EXPECT_NE(text.out.find("Subject: CN = mx.g1.sim"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("DNS:mx.g1.sim, IP Address:127.0.0.1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ASN1 OID: prime256v1"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ecdsa-with-SHA256"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("TLS Web Server Authentication"), std::string::npos) << text.out;
  // Its own trust anchor: the signature holds and the names match.
  OpensslResult verify = openssl({"verify", "-partial_chain", "-CAfile", cert, "-verify_hostname", "mx.g1.sim", cert});
  EXPECT_TRUE(verify.ok) << verify.out;
  OpensslResult other = openssl({"verify", "-partial_chain", "-CAfile", cert, "-verify_hostname", "mx.g2.sim", cert});
  EXPECT_FALSE(other.ok) << other.out;

  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  EXPECT_EQ(useCertificateAndKey(ctx, cert, key), "");
  SSL_CTX_free(ctx);
}

TEST_F(SelfSignedCertificateTest, EachCallMakesANewKeyAndReplacesTheFiles) {
  std::string cert = dir_ + "/mx.pem", key = dir_ + "/mx.key";
  ASSERT_EQ(writeSelfSignedCertificate(cert, key, {"mx.test"}), "");
  OpensslResult first = openssl({"x509", "-in", cert, "-noout", "-pubkey"});
  ::chmod(key.c_str(), 0644);
  ASSERT_EQ(writeSelfSignedCertificate(cert, key, {"mx.test"}), "");
  EXPECT_EQ(modeOf(key), 0600u);
  OpensslResult second = openssl({"x509", "-in", cert, "-noout", "-pubkey"});
  ASSERT_TRUE(first.ok && second.ok);
  EXPECT_NE(first.out, second.out);
}

TEST_F(SelfSignedCertificateTest, FailuresAreReportedNotCrashed) {
  EXPECT_EQ(writeSelfSignedCertificate(dir_ + "/a.pem", dir_ + "/a.key", {}), "a certificate needs at least one name");
  std::string err = writeSelfSignedCertificate(dir_ + "/none/a.pem", dir_ + "/none/a.key", {"mx.test"});
  EXPECT_NE(err.find("cannot create " + dir_ + "/none/a.key"), std::string::npos) << err;
}

}  // namespace
}  // namespace lbmail::tls
