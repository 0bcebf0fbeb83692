// Tests for the [dkim] configuration table: defaults, every key, and errors that name the key.
#include "lbmail/dkim/dkim_config.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace lbmail::dkim {
namespace {

using namespace std::chrono_literals;

// Reads text as the configuration file config_file; the error message, or "" and *out.
std::string readError(const std::string& text, DkimConfig* out = nullptr,
                      const std::string& config_file = test::tempPath("dkim.toml")) {
  auto doc = ConfigDocument::parseString(text, config_file);
  if (!doc) return doc.error();
  try {
    DkimConfig c = readDkimConfig(doc->root().table("dkim"), config_file);
    doc->rejectUnknownKeys();
    if (out) *out = std::move(c);
    return "";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

class DkimConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_file_ = new std::string(test::writeFile("dkim_cfg_rsa.pem", test::generatePem("RSA", 1024)));
    ed_file_ = new std::string(test::writeFile("dkim_cfg_ed.pem", test::generatePem("ED25519")));
  }
  static std::string entry(const std::string& domain, const std::string& selector, const std::string& algorithm,
                           const std::string& file) {
    return "[[dkim.domain]]\ndomain = \"" + domain + "\"\nselector = \"" + selector + "\"\nalgorithm = \"" +
           algorithm + "\"\nkey_file = \"" + file + "\"\n";
  }
  static std::string* rsa_file_;
  static std::string* ed_file_;
};
std::string* DkimConfigTest::rsa_file_ = nullptr;
std::string* DkimConfigTest::ed_file_ = nullptr;

TEST_F(DkimConfigTest, AnAbsentTableHasNoKeysAndTheDefaults) {
  DkimConfig c;
  ASSERT_EQ(readError("", &c), "");
  EXPECT_TRUE(c.keys.empty());
  EXPECT_EQ(c.default_domain, "");
  EXPECT_EQ(c.header, Canonicalization::kRelaxed);
  EXPECT_EQ(c.body, Canonicalization::kRelaxed);
  EXPECT_EQ(c.expire, 0s);
  EXPECT_EQ(c.signer_threads, 0u);
}

TEST_F(DkimConfigTest, ReadsEveryKey) {
  DkimConfig c;
  std::string text = "[dkim]\ncanonicalization = \"simple/relaxed\"\nexpire = \"7d\"\nsigner_threads = 3\n"
                     "default_domain = \"Example.COM\"\n" +
                     entry("EXAMPLE.com", "s1", "rsa-sha256", *rsa_file_) + entry("example.com", "e1", "ed25519", *ed_file_) +
                     entry("other.org", "s2", "rsa", *rsa_file_);
  ASSERT_EQ(readError(text, &c), "");
  EXPECT_EQ(c.header, Canonicalization::kSimple);
  EXPECT_EQ(c.body, Canonicalization::kRelaxed);
  EXPECT_EQ(c.expire, 7 * 24h);
  EXPECT_EQ(c.signer_threads, 3u);
  EXPECT_EQ(c.default_domain, "example.com");
  ASSERT_EQ(c.keys.size(), 3u);
  EXPECT_EQ(c.keys[0].domain(), "example.com");
  EXPECT_EQ(c.keys[0].algorithm(), Algorithm::kRsaSha256);
  EXPECT_EQ(c.keys[1].selector(), "e1");
  EXPECT_EQ(c.keys[1].algorithm(), Algorithm::kEd25519Sha256);
  EXPECT_EQ(c.keys[2].domain(), "other.org");
}

TEST_F(DkimConfigTest, EachCanonicalizationPair) {
  const std::pair<const char*, std::pair<Canonicalization, Canonicalization>> cases[] = {
      {"relaxed/relaxed", {Canonicalization::kRelaxed, Canonicalization::kRelaxed}},
      {"relaxed/simple", {Canonicalization::kRelaxed, Canonicalization::kSimple}},
      {"simple/relaxed", {Canonicalization::kSimple, Canonicalization::kRelaxed}},
      {"simple/simple", {Canonicalization::kSimple, Canonicalization::kSimple}}};
  for (const auto& [text, pair] : cases) {
    DkimConfig c;
    ASSERT_EQ(readError(std::string("[dkim]\ncanonicalization = \"") + text + "\"\n", &c), "") << text;
    EXPECT_EQ(c.header, pair.first) << text;
    EXPECT_EQ(c.body, pair.second) << text;
  }
  EXPECT_NE(readError("[dkim]\ncanonicalization = \"relaxed\"\n").find("dkim.canonicalization: expected one of"),
            std::string::npos);
}

TEST_F(DkimConfigTest, KeyFileIsRelativeToTheConfigFilesFolder) {
  // The key sits beside the configuration file; the file names it without a folder.
  std::string name = *rsa_file_;
  std::string base = name.substr(name.rfind('/') + 1);
  std::string config_file = name.substr(0, name.rfind('/')) + "/conf.toml";
  DkimConfig c;
  ASSERT_EQ(readError(entry("example.com", "s1", "rsa", base), &c, config_file), "");
  ASSERT_EQ(c.keys.size(), 1u);
}

TEST_F(DkimConfigTest, AKeyThatDoesNotLoadIsAConfigurationErrorNamingIt) {
  std::string missing = test::tempPath("dkim_cfg_missing.pem");
  std::string error = readError(entry("example.com", "s1", "rsa", missing));
  EXPECT_NE(error.find(":5:"), std::string::npos) << error;  // the key_file line
  EXPECT_NE(error.find("dkim.domain.key_file: expected a usable DKIM private key: dkim key example.com/s1 (" +
                       missing + "): "),
            std::string::npos)
      << error;
  error = readError(entry("example.com", "s1", "rsa", *ed_file_));
  EXPECT_NE(error.find("not an RSA key"), std::string::npos) << error;
}

TEST_F(DkimConfigTest, RefusesBadEntries) {
  EXPECT_NE(readError(entry("example.com", "s1", "rsa", *rsa_file_) + entry("Example.com", "s1", "ed25519", *ed_file_))
                .find("dkim.domain.selector: expected a selector not used twice for domain example.com"),
            std::string::npos);
  EXPECT_NE(readError(entry("exa mple.com", "s1", "rsa", *rsa_file_)).find("dkim.domain.domain: expected a DNS name"),
            std::string::npos);
  EXPECT_NE(readError(entry("example.com", "s1;", "rsa", *rsa_file_)).find("dkim.domain.selector: expected a DNS name"),
            std::string::npos);
  EXPECT_NE(readError(entry("example.com", "s1", "dsa", *rsa_file_)).find("dkim.domain.algorithm: expected one of"),
            std::string::npos);
  EXPECT_NE(readError("[[dkim.domain]]\ndomain = \"example.com\"\nselector = \"s1\"\n")
                .find("dkim.domain.key_file: expected the path"),
            std::string::npos);
  EXPECT_NE(readError("[dkim]\nsigner_threads = -1\n").find("dkim.signer_threads"), std::string::npos);
  EXPECT_NE(readError("[dkim]\nexpire = \"5\"\n").find("dkim.expire"), std::string::npos);
  EXPECT_NE(readError("[dkim]\nkeyfile = \"x\"\n").find("keyfile"), std::string::npos);  // unknown key
}

TEST_F(DkimConfigTest, DefaultDomainNeedsKeys) {
  std::string error = readError("[dkim]\ndefault_domain = \"other.org\"\n" + entry("example.com", "s1", "rsa", *rsa_file_));
  EXPECT_NE(error.find("dkim.default_domain: expected a domain with a [[dkim.domain]] key"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace lbmail::dkim
