// DKIM-Signature fields: their tags and folding, and raw signatures checked by the openssl
// command line over signed data built here by hand from RFC 6376 3.7.
#include "lbmail/dkim/dkim_signer.h"

#include <gtest/gtest.h>

#include <map>

#include "dkim_test_util.h"
#include "test_keys.h"

namespace lbmail::dkim {
namespace {

constexpr std::time_t kNow = 1700000000;

const std::string kHeader =
    "From: Alice <a@example.com>\r\n"
    "To: b@example.org\r\n"
    "X-Other: not signed\r\n"
    "Subject:  Hello\r\n  world \r\n"
    "To: c@example.org\r\n"
    "\r\n";
const std::string kBody = "Body  line \r\nQUJDREVG\r\nR0hJSktM\r\n\r\n\r\n";

DkimKey makeKey(const std::string& algorithm, const std::string& domain = "example.com",
                const std::string& selector = "s1") {
  Algorithm a = algorithm == "RSA" ? Algorithm::kRsaSha256 : Algorithm::kEd25519Sha256;
  auto key = DkimKey::fromPem(domain, selector, a, test::generatePem(algorithm, 1024));
  EXPECT_TRUE(key) << key.error();
  return *key;
}

std::string signOrFail(const DkimSigner& signer, const std::vector<std::string_view>& slices,
                       const std::vector<const DkimKey*>& keys, const std::vector<uint8_t>& plain = {}) {
  auto out = signer.sign(MessageBytes{slices, plain}, keys, kNow);
  EXPECT_TRUE(out) << out.error();
  return out ? *out : "";
}

// The field's tags with folding whitespace removed from their values.
std::map<std::string, std::string> tags(std::string_view field) {
  std::string flat;
  for (char c : field.substr(field.find(':') + 1)) {
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') flat.push_back(c);
  }
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < flat.size()) {
    size_t end = std::min(flat.find(';', start), flat.size());
    std::string tag = flat.substr(start, end - start);
    out[tag.substr(0, tag.find('='))] = tag.substr(tag.find('=') + 1);
    start = end + 1;
  }
  return out;
}

// RFC 6376 3.4.2 written out plainly for the signature field itself.
std::string relaxedField(std::string_view field) {
  std::string unfolded;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field.substr(i, 2) == "\r\n") {
      ++i;
      continue;
    }
    char c = field[i] == '\t' ? ' ' : field[i];
    if (c == ' ' && !unfolded.empty() && unfolded.back() == ' ') continue;
    unfolded.push_back(c);
  }
  size_t colon = unfolded.find(':');
  std::string name = unfolded.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = unfolded.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return name + ":" + value;
}

// Whether openssl accepts the field's b= over header_data and the field with b= emptied.
bool opensslVerifies(const std::string& field, const std::string& header_data, bool relaxed, const std::string& pem,
                     bool ed25519) {
  std::string without_b = field.substr(0, field.rfind("b=") + 2);
  std::string data = header_data + (relaxed ? relaxedField(without_b) : without_b);
  std::string signature = test::unbase64(tags(field)["b"]);
  std::string pub = test::writeFile("dkim_signer_pub.pem", test::runOpenssl({"pkey", "-pubout"}, pem));
  std::string sig = test::writeFile("dkim_signer.sig", signature);
  if (!ed25519) {
    return test::runOpenssl({"dgst", "-sha256", "-verify", pub, "-signature", sig}, data) == "Verified OK\n";
  }
  std::string digest = test::writeFile("dkim_signer.digest", test::runOpenssl({"dgst", "-sha256", "-binary"}, data));
  return test::runOpenssl({"pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-sigfile", sig, "-in", digest})
             .find("Signature Verified Successfully") != std::string::npos;
}

TEST(DkimSignerTest, FieldHasTheTagsInOrderFoldedAt78) {
  DkimKey key = makeKey("RSA");
  std::string message = kHeader + kBody;
  std::string field = signOrFail(DkimSigner(SignOptions{}), {message}, {&key});
  ASSERT_TRUE(field.starts_with("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;"))
      << field;
  ASSERT_TRUE(field.ends_with("\r\n"));
  size_t start = 0;
  for (size_t end; (end = field.find("\r\n", start)) != std::string::npos; start = end + 2) {
    EXPECT_LE(end - start, 78u) << field.substr(start, end - start);
    if (start > 0) {
      EXPECT_EQ(field[start], ' ');
    }
  }
  auto t = tags(field);
  EXPECT_EQ(t["t"], "1700000000");
  EXPECT_EQ(t.count("x"), 0u);
  // Over-signed names are listed once more than they occur (two To fields: three times), also
  // when absent; the others only as often as they occur.
  EXPECT_EQ(t["h"], "from:from:to:to:to:subject:subject:reply-to:list-unsubscribe:list-unsubscribe-post");
  EXPECT_EQ(t["bh"], test::base64(test::sha256("Body line\r\nQUJDREVG\r\nR0hJSktM\r\n")));
  // b= comes last: nothing after its value.
  EXPECT_GT(field.rfind("b="), field.rfind("bh="));
  EXPECT_EQ(field.find(';', field.rfind("b=")), std::string::npos);
}

TEST(DkimSignerTest, ExpireAddsX) {
  DkimKey key = makeKey("ED25519");
  SignOptions o;
  o.expire = std::chrono::seconds(3600);
  std::string message = kHeader + kBody;
  auto t = tags(signOrFail(DkimSigner(o), {message}, {&key}));
  EXPECT_EQ(t["a"], "ed25519-sha256");
  EXPECT_EQ(t["x"], "1700003600");
}

// The signed data by hand: the h= fields bottom-up per name, then the field with b= empty.
TEST(DkimSignerTest, RelaxedRsaSignatureVerifiesWithOpenssl) {
  std::string pem = test::generatePem("RSA", 1024);
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kRsaSha256, pem);
  ASSERT_TRUE(key);
  std::string message = kHeader + kBody;
  std::string field = signOrFail(DkimSigner(SignOptions{}), {message}, {&*key});
  std::string data = "from:Alice <a@example.com>\r\nto:c@example.org\r\nto:b@example.org\r\nsubject:Hello world\r\n";
  EXPECT_TRUE(opensslVerifies(field, data, true, pem, false)) << field;
  EXPECT_FALSE(opensslVerifies(field, "from:Alice <a@example.com>\r\n", true, pem, false));
}

TEST(DkimSignerTest, SimpleEd25519SignatureVerifiesWithOpenssl) {
  std::string pem = test::generatePem("ED25519");
  auto key = DkimKey::fromPem("example.com", "s1", Algorithm::kEd25519Sha256, pem);
  ASSERT_TRUE(key);
  SignOptions o;
  o.header = o.body = Canonicalization::kSimple;
  std::string message = kHeader + kBody;
  std::string field = signOrFail(DkimSigner(o), {message}, {&*key});
  EXPECT_EQ(tags(field)["c"], "simple/simple");
  EXPECT_EQ(tags(field)["bh"], test::base64(test::sha256("Body  line \r\nQUJDREVG\r\nR0hJSktM\r\n")));
  std::string data = "From: Alice <a@example.com>\r\nTo: c@example.org\r\nTo: b@example.org\r\n"
                     "Subject:  Hello\r\n  world \r\n";
  EXPECT_TRUE(opensslVerifies(field, data, false, pem, true)) << field;
  EXPECT_FALSE(opensslVerifies(field, data + " ", false, pem, true));
}

TEST(DkimSignerTest, OneFieldPerKeyInKeyOrderSharingTheBodyHash) {
  DkimKey rsa = makeKey("RSA", "example.com", "rsa1");
  DkimKey ed = makeKey("ED25519", "example.com", "ed1");
  std::string message = kHeader + kBody;
  std::string out = signOrFail(DkimSigner(SignOptions{}), {message}, {&rsa, &ed});
  size_t second = out.find("\r\nDKIM-Signature:");
  ASSERT_NE(second, std::string::npos) << out;
  auto first_tags = tags(out.substr(0, second));
  auto second_tags = tags(out.substr(second + 2));
  EXPECT_EQ(first_tags["s"], "rsa1");
  EXPECT_EQ(second_tags["s"], "ed1");
  EXPECT_EQ(first_tags["bh"], second_tags["bh"]);
}

TEST(DkimSignerTest, NoKeysNoFieldNoFromAnError) {
  DkimKey key = makeKey("ED25519");
  DkimSigner signer{SignOptions{}};
  std::string message = kHeader + kBody;
  std::vector<std::string_view> slices = {message};
  auto none = signer.sign(MessageBytes{slices, {}}, {}, kNow);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  std::string no_from = "To: b@example.org\r\n\r\nbody\r\n";
  std::vector<std::string_view> no_from_slices = {no_from};
  std::vector<const DkimKey*> keys = {&key};
  auto refused = signer.sign(MessageBytes{no_from_slices, {}}, keys, kNow);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("no From"), std::string::npos);
}

TEST(DkimSignerTest, RefusesAHeaderSectionOver1MiB) {
  DkimKey key = makeKey("ED25519");
  std::string huge = kHeader;
  huge.insert(0, "X-Big: " + std::string(1024 * 1024, 'x') + "\r\n");
  std::string message = huge + kBody;
  std::vector<std::string_view> slices = {message};
  std::vector<const DkimKey*> keys = {&key};
  auto refused = DkimSigner(SignOptions{}).sign(MessageBytes{slices, {}}, keys, kNow);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "the header section is over 1 MiB");
}

// From is signed (and over-signed) even when the configured lists leave it out; other names
// once each, in the configured order.
TEST(DkimSignerTest, FromIsAlwaysSigned) {
  DkimKey key = makeKey("ED25519");
  SignOptions o;
  o.headers = {"Subject", "SUBJECT", "Date"};
  o.oversigned = {};
  std::string message = kHeader + kBody;
  EXPECT_EQ(tags(signOrFail(DkimSigner(o), {message}, {&key}))["h"], "from:from:subject");
}

// Over-signed names keep the configured order; one the headers list leaves out comes after them.
TEST(DkimSignerTest, OverSignedNamesInOrderAlsoWhenNotConfigured) {
  DkimKey key = makeKey("ED25519");
  SignOptions o;
  o.headers = {"Subject", "To", "Date"};
  o.oversigned = {"to", "List-Unsubscribe-Post"};
  std::string message = kHeader + kBody;
  EXPECT_EQ(tags(signOrFail(DkimSigner(o), {message}, {&key}))["h"],
            "from:from:subject:to:to:to:list-unsubscribe-post");
}

// However the message is cut into slices and whichever slices are marked plain lines, the
// signature is the same (RSASSA-PKCS1-v1_5 and Ed25519 are deterministic).
TEST(DkimSignerTest, SlicesAndPlainLinesDoNotChangeTheField) {
  DkimKey rsa = makeKey("RSA");
  DkimKey ed = makeKey("ED25519");
  DkimSigner signer{SignOptions{}};
  std::string message = kHeader + kBody;
  std::string whole = signOrFail(signer, {message}, {&rsa, &ed});
  std::string_view m = message;
  size_t plain_at = message.find("QUJD");
  size_t plain_end = message.find("\r\n\r\n", plain_at) + 2;
  std::vector<std::string_view> slices = {m.substr(0, 20), m.substr(20, plain_at - 20),
                                          m.substr(plain_at, plain_end - plain_at), m.substr(plain_end)};
  EXPECT_EQ(signOrFail(signer, slices, {&rsa, &ed}, {0, 0, 1, 0}), whole);
  EXPECT_EQ(signOrFail(signer, slices, {&rsa, &ed}), whole);
  SignOptions simple;
  simple.header = simple.body = Canonicalization::kSimple;
  DkimSigner simple_signer{simple};
  EXPECT_EQ(signOrFail(simple_signer, slices, {&ed}, {0, 0, 1, 0}), signOrFail(simple_signer, {message}, {&ed}));
}

}  // namespace
}  // namespace lbmail::dkim
