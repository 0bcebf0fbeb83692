// Tests for choosing DKIM keys by the From domain: exact, nearest parent, default, none.
#include "lbmail/dkim/dkim_keyring.h"

#include <gtest/gtest.h>

#include "test_keys.h"

namespace lbmail::dkim {
namespace {

class DkimKeyringTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pem_ = new std::string(test::generatePem("ED25519")); }
  static DkimKey key(const std::string& domain, const std::string& selector) {
    auto k = DkimKey::fromPem(domain, selector, Algorithm::kEd25519Sha256, *pem_);
    EXPECT_TRUE(k) << k.error();
    return *k;
  }
  // "domain/selector ..." of the keys chosen for from_domain.
  static std::string chosen(const DkimKeyring& ring, std::string_view from_domain) {
    std::string out;
    for (const DkimKey* k : ring.keysFor(from_domain)) out += (out.empty() ? "" : " ") + k->domain() + "/" + k->selector();
    return out;
  }
  static std::string* pem_;
};
std::string* DkimKeyringTest::pem_ = nullptr;

TEST_F(DkimKeyringTest, ChoosesExactThenNearestParentThenDefault) {
  DkimConfig c;
  c.keys = {key("example.com", "rsa1"), key("b.example.com", "s1"), key("example.com", "ed1"), key("fallback.net", "f1")};
  c.default_domain = "fallback.net";
  DkimKeyring ring(c);
  EXPECT_FALSE(ring.empty());
  EXPECT_EQ(chosen(ring, "example.com"), "example.com/rsa1 example.com/ed1");  // dual signing, file order
  EXPECT_EQ(chosen(ring, "EXAMPLE.Com"), "example.com/rsa1 example.com/ed1");
  EXPECT_EQ(chosen(ring, "example.com."), "example.com/rsa1 example.com/ed1");
  EXPECT_EQ(chosen(ring, "b.example.com"), "b.example.com/s1");
  EXPECT_EQ(chosen(ring, "a.b.example.com"), "b.example.com/s1");  // the nearest parent
  EXPECT_EQ(chosen(ring, "a.example.com"), "example.com/rsa1 example.com/ed1");
  EXPECT_EQ(chosen(ring, "notexample.com"), "fallback.net/f1");  // a suffix is not a parent
  EXPECT_EQ(chosen(ring, "other.org"), "fallback.net/f1");
  EXPECT_EQ(chosen(ring, ""), "fallback.net/f1");
}

TEST_F(DkimKeyringTest, NoDefaultMeansDoNotSign) {
  DkimConfig c;
  c.keys = {key("example.com", "s1")};
  DkimKeyring ring(c);
  EXPECT_EQ(chosen(ring, "example.org"), "");
  EXPECT_EQ(chosen(ring, "com"), "");
  EXPECT_EQ(chosen(ring, "x.example.com"), "example.com/s1");
}

TEST_F(DkimKeyringTest, EmptyWithoutKeysAndSurvivesAMove) {
  EXPECT_TRUE(DkimKeyring(DkimConfig{}).empty());
  DkimConfig c;
  c.keys = {key("example.com", "s1")};
  c.default_domain = "example.com";
  DkimKeyring first(c);
  DkimKeyring moved(std::move(first));
  EXPECT_EQ(chosen(moved, "a.example.com"), "example.com/s1");
  EXPECT_EQ(chosen(moved, "other.org"), "example.com/s1");
}

}  // namespace
}  // namespace lbmail::dkim
