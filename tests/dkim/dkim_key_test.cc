// Tests for DKIM keys: refused files and keys name the key; signatures check out with the
// openssl command line; the DNS record holds the key's public half.
#include "lbmail/dkim/dkim_key.h"

#include <gtest/gtest.h>

#include <thread>

#include "test_keys.h"

namespace lbmail::dkim {
namespace {

DkimKeyConfig configFor(const std::string& file, Algorithm a = Algorithm::kRsaSha256) {
  return DkimKeyConfig{"example.com", "s1", a, file};
}

void expectErrorNamesKey(const Expected<DkimKey, std::string>& key, const std::string& file,
                         const std::string& reason) {
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().rfind("dkim key example.com/s1 (" + file + "): ", 0), 0u) << key.error();
  EXPECT_NE(key.error().find(reason), std::string::npos) << key.error();
}

TEST(DkimKey, AlgorithmNamesAreTheTagValues) {
  EXPECT_EQ(algorithmName(Algorithm::kRsaSha256), "rsa-sha256");
  EXPECT_EQ(algorithmName(Algorithm::kEd25519Sha256), "ed25519-sha256");
}

TEST(DkimKey, LoadsAnRsaKeyFromAPrivateFile) {
  std::string file = test::writeFile("dkim_rsa.pem", test::generatePem("RSA", 2048));
  auto key = DkimKey::load(configFor(file));
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->domain(), "example.com");
  EXPECT_EQ(key->selector(), "s1");
  EXPECT_EQ(key->algorithm(), Algorithm::kRsaSha256);
  EXPECT_EQ(key->bits(), 2048);
}

TEST(DkimKey, LoadsATraditionalRsaPem) {
  std::string pkcs8 = test::generatePem("RSA", 1024);
  std::string traditional = test::runOpenssl({"pkey", "-traditional"}, pkcs8);
  ASSERT_NE(traditional.find("BEGIN RSA PRIVATE KEY"), std::string::npos) << traditional;
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kRsaSha256, traditional);
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(key->bits(), 1024);
}

TEST(DkimKey, RefusesAMissingFile) {
  std::string file = test::tempPath("dkim_missing.pem");
  expectErrorNamesKey(DkimKey::load(configFor(file)), file, "No such file");
}

TEST(DkimKey, RefusesAFileOthersCanRead) {
  std::string file = test::writeFile("dkim_open.pem", test::generatePem("ED25519"), 0644);
  expectErrorNamesKey(DkimKey::load(configFor(file, Algorithm::kEd25519Sha256)), file,
                      "accessible to its group or other users");
}

TEST(DkimKey, RefusesAFileWithoutAPemKey) {
  std::string file = test::writeFile("dkim_junk.pem", "-----BEGIN PRIVATE KEY-----\nnot base64!\n");
  expectErrorNamesKey(DkimKey::load(configFor(file)), file, "holds no unencrypted PEM private key");
}

TEST(DkimKey, RefusesAnRsaKeyUnder1024Bits) {
  std::string file = test::writeFile("dkim_768.pem", test::generatePem("RSA", 768));
  expectErrorNamesKey(DkimKey::load(configFor(file)), file, "has 768 bits");
}

TEST(DkimKey, RefusesAKeyOfTheWrongType) {
  std::string ed = test::writeFile("dkim_ed_as_rsa.pem", test::generatePem("ED25519"));
  expectErrorNamesKey(DkimKey::load(configFor(ed)), ed, "not an RSA key");
  std::string rsa = test::writeFile("dkim_rsa_as_ed.pem", test::generatePem("RSA", 1024));
  expectErrorNamesKey(DkimKey::load(configFor(rsa, Algorithm::kEd25519Sha256)), rsa, "not an ED25519 key");
}

// An encrypted key is refused at once with a clear error: never a passphrase prompt on the
// terminal (which hangs a gateway) nor OpenSSL's "UI routines::processing error".
TEST(DkimKey, RefusesAnEncryptedKeyWithoutAskingForAPassphrase) {
  std::string ed = test::writeFile(
      "dkim_ed_encrypted.pem", test::runOpenssl({"genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:x"}));
  ASSERT_NE(test::readFile(ed).find("ENCRYPTED"), std::string::npos);
  expectErrorNamesKey(DkimKey::load(configFor(ed, Algorithm::kEd25519Sha256)), ed, "the key is encrypted");
  std::string rsa = test::writeFile(
      "dkim_rsa_encrypted.pem",
      test::runOpenssl({"pkey", "-aes256", "-passout", "pass:x"}, test::generatePem("RSA", 1024)));
  auto key = DkimKey::load(configFor(rsa));
  expectErrorNamesKey(key, rsa, "the key is encrypted");
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().find("openssl pkey -in"), std::string::npos) << key.error();
  EXPECT_EQ(key.error().find("processing error"), std::string::npos) << key.error();
  // The traditional form says so in a Proc-Type header (RFC 1421) rather than by its label.
  std::string traditional = test::writeFile(
      "dkim_rsa_encrypted_traditional.pem",
      test::runOpenssl({"pkey", "-traditional", "-aes256", "-passout", "pass:x"}, test::generatePem("RSA", 1024)));
  ASSERT_NE(test::readFile(traditional).find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
  expectErrorNamesKey(DkimKey::load(configFor(traditional)), traditional, "the key is encrypted");
}

// The public key as openssl prints it, in a file for pkeyutl/dgst -verify.
std::string publicKeyFile(const std::string& name, const std::string& private_pem) {
  return test::writeFile(name, test::runOpenssl({"pkey", "-pubout"}, private_pem));
}

TEST(DkimKey, RsaSignaturesVerifyWithOpensslDgst) {
  std::string pem = test::generatePem("RSA", 2048);
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kRsaSha256, pem);
  ASSERT_TRUE(key) << key.error();
  std::string data = "from:a@example.com\r\ndkim-signature:v=1; b=";
  std::string sig = key->sign(data).value();
  ASSERT_EQ(sig.size(), 256u);
  std::string pub = publicKeyFile("dkim_rsa_pub.pem", pem);
  std::string sig_file = test::writeFile("dkim_rsa.sig", sig);
  EXPECT_EQ(test::runOpenssl({"dgst", "-sha256", "-verify", pub, "-signature", sig_file}, data), "Verified OK\n");
  // One changed byte fails: the check above can fail.
  EXPECT_EQ(test::runOpenssl({"dgst", "-sha256", "-verify", pub, "-signature", sig_file}, data + "x"), "");
}

TEST(DkimKey, Ed25519SignsTheSha256OfTheData) {
  std::string pem = test::generatePem("ED25519");
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kEd25519Sha256, pem);
  ASSERT_TRUE(key) << key.error();
  std::string data = "subject:hello\r\n";
  std::string sig = key->sign(data).value();
  ASSERT_EQ(sig.size(), 64u);
  // RFC 8463 section 3: PureEd25519 over SHA-256(data); openssl computes the hash here.
  std::string digest = test::runOpenssl({"dgst", "-sha256", "-binary"}, data);
  ASSERT_EQ(digest.size(), 32u);
  std::string pub = publicKeyFile("dkim_ed_pub.pem", pem);
  std::string sig_file = test::writeFile("dkim_ed.sig", sig);
  // pkeyutl -rawin (one-shot Ed25519) reads a file, not a pipe.
  auto verify = [&](const std::string& name, const std::string& signed_bytes) {
    return test::runOpenssl({"pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-sigfile", sig_file, "-in",
                             test::writeFile(name, signed_bytes)});
  };
  EXPECT_NE(verify("dkim_ed_digest", digest).find("Signature Verified Successfully"), std::string::npos);
  EXPECT_EQ(verify("dkim_ed_data", data), "");  // the data itself is not what was signed
}

TEST(DkimKey, OneKeySignsOnSeveralThreadsAtOnce) {
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kRsaSha256, test::generatePem("RSA", 1024));
  ASSERT_TRUE(key) << key.error();
  std::string expected = key->sign("data").value();  // RSASSA-PKCS1-v1_5 is deterministic
  ASSERT_FALSE(expected.empty());
  std::vector<std::thread> threads;
  std::vector<int> matches(4, 0);
  for (size_t t = 0; t < matches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) matches[t] += key->sign("data").value() == expected;
    });
  }
  for (auto& t : threads) t.join();
  for (int m : matches) EXPECT_EQ(m, 50);
}

TEST(DkimKey, RsaRecordHoldsTheSubjectPublicKeyInfo) {
  std::string pem = test::generatePem("RSA", 1024);
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kRsaSha256, pem);
  ASSERT_TRUE(key) << key.error();
  // openssl's -pubout PEM body is the base64 of the SubjectPublicKeyInfo DER, in 64-char lines.
  std::string pub = test::runOpenssl({"pkey", "-pubout"}, pem);
  std::string b64;
  for (size_t pos = pub.find('\n') + 1; pos < pub.size();) {
    size_t end = pub.find('\n', pos);
    std::string line = pub.substr(pos, end - pos);
    if (line.rfind("-----", 0) != 0) b64 += line;
    pos = end + 1;
  }
  EXPECT_EQ(key->dnsRecordText(), "v=DKIM1; k=rsa; p=" + b64);
}

TEST(DkimKey, Ed25519RecordHoldsTheRaw32ByteKey) {
  std::string pem = test::generatePem("ED25519");
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kEd25519Sha256, pem);
  ASSERT_TRUE(key) << key.error();
  // The DER SubjectPublicKeyInfo of an Ed25519 key is a 12-byte prefix and the raw key.
  std::string der = test::runOpenssl({"pkey", "-pubout", "-outform", "DER"}, pem);
  ASSERT_EQ(der.size(), 44u);
  std::string raw_b64 = test::runOpenssl({"base64", "-A"}, der.substr(12));
  while (!raw_b64.empty() && raw_b64.back() == '\n') raw_b64.pop_back();
  EXPECT_EQ(key->dnsRecordText(), "v=DKIM1; k=ed25519; p=" + raw_b64);
}

}  // namespace
}  // namespace lbmail::dkim
