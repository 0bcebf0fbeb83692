// Tests for the test support that runs independent DKIM verifiers (tests/support/
// dkim_verifiers.h): messages signed by dkimpy's own signer pass every verifier, and one changed
// byte fails every one, so a later "pass" on lbmail's signatures means something.
#include "dkim_verifiers.h"

#include <gtest/gtest.h>

#include "lbmail/dkim/dkim_key.h"
#include "test_keys.h"

namespace lbmail::dkim {
namespace {

// Signs message_file in place with dkimpy: key_arg is the PEM file for rsa-sha256, or the
// base64 Ed25519 seed for ed25519-sha256 (dkimpy's key form).
constexpr char kSignScript[] = R"(
import sys, dkim
path, domain, selector, algorithm, key = sys.argv[1:6]
message = open(path, 'rb').read()
secret = open(key, 'rb').read() if algorithm == 'rsa-sha256' else key.encode()
sig = dkim.sign(message, selector.encode(), domain.encode(), secret, signature_algorithm=algorithm.encode(),
                include_headers=[b'from', b'to', b'subject'])
open(path, 'wb').write(sig + message)
)";

bool dkimpySign(const std::string& file, const DkimKey& key, const std::string& key_arg) {
  test::ChildProcess child({test::testEnv("LBMAIL_PYTHON"), "-c", kSignScript, file, key.domain(), key.selector(),
                            std::string(algorithmName(key.algorithm())), key_arg});
  return test::exitCode(child.wait()) == 0;
}

class DkimVerifiersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_pem_ = test::generatePem("RSA", 1024);
    ed_pem_ = test::generatePem("ED25519");
    auto rsa = DkimKey::fromPem("example.test", "s1", Algorithm::kRsaSha256, rsa_pem_);
    auto ed = DkimKey::fromPem("example.test", "e1", Algorithm::kEd25519Sha256, ed_pem_);
    ASSERT_TRUE(rsa && ed);
    rsa_ = std::make_unique<DkimKey>(*rsa);
    ed_ = std::make_unique<DkimKey>(*ed);
    verifiers_ = std::make_unique<test::DkimVerifiers>(std::vector<const DkimKey*>{rsa_.get(), ed_.get()});
    ASSERT_EQ(verifiers_->start(), "");
  }
  std::string message(const std::string& name) {
    return test::writeFile(name, "From: a@example.test\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nHello,\r\nworld.\r\n");
  }
  bool signRsa(const std::string& file) { return dkimpySign(file, *rsa_, test::writeFile("verifiers_rsa.pem", rsa_pem_)); }
  bool signEd25519(const std::string& file) {
    // dkimpy takes the 32-byte seed, the end of the 48-byte PKCS#8 DER.
    std::string der = test::runOpenssl({"pkey", "-outform", "DER"}, ed_pem_);
    std::string seed = test::runOpenssl({"base64", "-A"}, der.substr(der.size() - 32));
    while (!seed.empty() && seed.back() == '\n') seed.pop_back();
    return dkimpySign(file, *ed_, seed);
  }
  // A copy of file, named name, with the first "from" replaced by "to".
  static std::string changedCopy(const std::string& file, const std::string& from, const std::string& to,
                                 const std::string& name) {
    std::string text = test::readFile(file);
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return test::writeFile(name, text);
  }

  std::string rsa_pem_, ed_pem_;
  std::unique_ptr<DkimKey> rsa_, ed_;
  std::unique_ptr<test::DkimVerifiers> verifiers_;
};

TEST_F(DkimVerifiersTest, TxtRecordOptionCarriesTheCharacterStrings) {
  std::string option = test::DkimVerifiers::txtRecordOption(*rsa_);
  EXPECT_EQ(option.rfind("--txt-record=s1._domainkey.example.test,v=DKIM1; k=rsa; ,p=MI", 0), 0u) << option;
}

TEST_F(DkimVerifiersTest, PassesASignedMessageAndFailsOneChangedByte) {
  std::string good = message("verifiers_good.eml");
  ASSERT_TRUE(signRsa(good));
  auto r = verifiers_->verify({good});
  EXPECT_TRUE(r.dkimpy_pass) << r.output;
  EXPECT_TRUE(r.mail_dkim_pass) << r.output;
  EXPECT_TRUE(r.mailauth_pass) << r.output;
  EXPECT_NE(r.output.find(good + " pass d=example.test s=s1 a=rsa-sha256"), std::string::npos) << r.output;

  // "world." becomes "World." in a copy: the body hash no longer matches.
  std::string bad = changedCopy(good, "world.", "World.", "verifiers_bad.eml");
  r = verifiers_->verify({bad});
  EXPECT_FALSE(r.dkimpy_pass) << r.output;
  EXPECT_FALSE(r.mail_dkim_pass) << r.output;
  EXPECT_FALSE(r.mailauth_pass) << r.output;
  // Every file counts: a good one beside the bad one does not make the run pass.
  r = verifiers_->verify({good, bad});
  EXPECT_FALSE(r.dkimpy_pass || r.mail_dkim_pass || r.mailauth_pass) << r.output;
}

TEST_F(DkimVerifiersTest, AFileWithoutASignatureFails) {
  std::string unsigned_file = message("verifiers_unsigned.eml");
  auto r = verifiers_->verify({unsigned_file});
  EXPECT_FALSE(r.dkimpy_pass) << r.output;
  EXPECT_FALSE(r.mail_dkim_pass) << r.output;
  EXPECT_FALSE(r.mailauth_pass) << r.output;
  EXPECT_NE(r.output.find(unsigned_file + " fail no DKIM-Signature header"), std::string::npos) << r.output;
}

TEST_F(DkimVerifiersTest, DualSignedRsaAndEd25519) {
  std::string file = message("verifiers_dual.eml");
  ASSERT_TRUE(signRsa(file));
  ASSERT_TRUE(signEd25519(file));
  auto r = verifiers_->verify({file});
  EXPECT_TRUE(r.dkimpy_pass) << r.output;
  EXPECT_NE(r.output.find(file + " pass d=example.test s=e1 a=ed25519-sha256"), std::string::npos) << r.output;
  // Mail::DKIM passes the RSA signature; ed25519 passes or, in older releases, is unsupported.
  EXPECT_TRUE(r.mail_dkim_pass) << r.output;
  // mailauth checks both (the ed25519 one, signed last, comes first): the second verifier of ed25519.
  EXPECT_TRUE(r.mailauth_pass) << r.output;
  EXPECT_NE(r.output.find("[mailauth exit 0]\n" + file + " pass d=example.test s=e1 a=ed25519-sha256\n" + file +
                          " pass d=example.test s=s1 a=rsa-sha256\n"),
            std::string::npos)
      << r.output;
}

// Ed25519 alone: dkimpy and mailauth pass it (Mail::DKIM may call it unsupported, so it is not
// asserted); one changed header byte fails both.
TEST_F(DkimVerifiersTest, Ed25519OnlyPassesDkimpyAndMailauthAndFailsOneChangedByte) {
  std::string good = message("verifiers_ed25519.eml");
  ASSERT_TRUE(signEd25519(good));
  auto r = verifiers_->verify({good});
  EXPECT_TRUE(r.dkimpy_pass) << r.output;
  EXPECT_TRUE(r.mailauth_pass) << r.output;
  EXPECT_NE(r.output.find("[mailauth exit 0]\n" + good + " pass d=example.test s=e1 a=ed25519-sha256\n"),
            std::string::npos)
      << r.output;

  // "hello" becomes "Hello" in the signed Subject: the header signature no longer matches.
  std::string bad = changedCopy(good, "Subject: hello", "Subject: Hello", "verifiers_ed25519_bad.eml");
  r = verifiers_->verify({bad});
  EXPECT_FALSE(r.dkimpy_pass) << r.output;
  EXPECT_FALSE(r.mailauth_pass) << r.output;
  EXPECT_NE(r.output.find(bad + " fail signature 1 d=example.test s=e1 a=ed25519-sha256: fail bad signature"),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace lbmail::dkim
