// Assembled messages (non-ASCII From and Subject, long folded headers, an attachment and an
// inline image) signed by DkimSigner and checked by two independent verifiers, dkimpy and
// Mail::DKIM, with the keys published by a real DNS server; one changed byte fails them.
#include <gtest/gtest.h>

#include "../media/media_fixture.h"
#include "dkim_verifiers.h"
#include "lbmail/dkim/dkim_signer.h"
#include "lbmail/media/message_assembler.h"
#include "test_keys.h"

namespace lbmail::dkim {
namespace {

using C = Canonicalization;

class SignedMessageTest : public ::testing::Test {
 protected:
  SignedMessageTest() : f_("dkim-signed") {}

  void SetUp() override {
    f_.addRandomFile("brochure.pdf", 100 * 1024);
    f_.addRandomFile("logo.png", 4000);
    report_ = f_.build();
    cache_ = f_.load();
    rsa_ = loadKey("rsa1", Algorithm::kRsaSha256, test::generatePem("RSA", 2048));
    ed_ = loadKey("ed1", Algorithm::kEd25519Sha256, test::generatePem("ED25519"));
    ASSERT_TRUE(rsa_ && ed_);
    verifiers_ = std::make_unique<test::DkimVerifiers>(std::vector<const DkimKey*>{&*rsa_, &*ed_});
    ASSERT_EQ(verifiers_->start(), "");
    message_ = assemble();
  }

  // Through DkimKey::load, as the gateway does: a PEM file of mode 0600.
  static std::optional<DkimKey> loadKey(const std::string& selector, Algorithm a, const std::string& pem) {
    std::string file = test::writeFile("dkim-signed-" + selector + ".pem", pem, 0600);
    auto key = DkimKey::load(DkimKeyConfig{"example.test", selector, a, file});
    EXPECT_TRUE(key) << key.error();
    if (!key) return std::nullopt;
    return *key;
  }

  std::optional<media::AssembledMessage> assemble() {
    media::MaterialSpec s;
    s.from = "Zoë Müller's Shöp <news@example.test>";
    s.reply_to = "help@example.test";
    s.subject = "{{first_name}}, ünsere Angebote für diese Woche: Bücher, Küchengeräte und vieles mehr im Überblick";
    s.text = "Dear {{first_name}},  \n\tour offer.   \n\nSee the brochure.\n\n\n";
    s.html = "<p>Dear {{first_name}}</p>  \n<img src=\"cid:logo@shop\">\n";
    s.list_unsubscribe = "<https://example.test/unsubscribe/a-rather-long-path/that-goes-on?id={{id}}&list=weekly>, "
                         "<mailto:unsubscribe@example.test?subject={{id}}>";
    s.fields = {"first_name", "id"};
    s.media = {{f_.hashOf(report_, "brochure.pdf"), false, "Broschüre 2026.pdf"},
               {f_.hashOf(report_, "logo.png"), true, "logo@shop"}};
    auto material = media::Material::define(s, cache_);
    EXPECT_TRUE(material) << material.error().text;
    if (!material) return std::nullopt;
    fields_ = {std::string_view("Zoë"), std::string_view("r-4242")};
    media::MessageRequest r;
    r.request_id = 4242;
    r.recipient = "alice@example.org";
    r.fields = fields_;
    r.date = 1796177790;
    auto msg = assembler_.assemble(*material, r);
    EXPECT_TRUE(msg) << msg.error().text;
    if (!msg) return std::nullopt;
    return std::move(*msg);
  }

  // The signed message in a file: the DKIM-Signature fields, then the message's slices.
  std::string signedFile(const std::string& name, const SignOptions& o, const std::vector<const DkimKey*>& keys) {
    MessageBytes bytes{message_->slices(), message_->plainLines()};
    auto fields = DkimSigner(o).sign(bytes, keys, std::time(nullptr));
    EXPECT_TRUE(fields) << fields.error();
    return test::writeFile(name, (fields ? *fields : "") + message_->flatten());
  }

  // A hand-made message, signed, in a file.
  std::string signedText(const std::string& name, const std::string& message, const std::vector<const DkimKey*>& keys) {
    std::vector<std::string_view> slices = {message};
    DkimSigner signer(options(C::kRelaxed, C::kRelaxed));
    auto fields = signer.sign(MessageBytes{slices, {}}, keys, std::time(nullptr));
    EXPECT_TRUE(fields) << fields.error();
    return test::writeFile(name, (fields ? *fields : "") + message);
  }

  static SignOptions options(Canonicalization header, Canonicalization body) {
    SignOptions o;
    o.header = header;
    o.body = body;
    o.expire = std::chrono::hours(24);
    return o;
  }

  // A copy of file with the first occurrence of from replaced by to.
  static std::string changed(const std::string& file, const std::string& from, const std::string& to) {
    std::string text = test::readFile(file);
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return test::writeFile(std::filesystem::path(file).filename().string() + ".changed", text);
  }

  test::MediaFixture f_;
  media::BuildReport report_;
  media::MediaCache cache_;
  media::MessageAssembler assembler_;
  std::vector<std::optional<std::string_view>> fields_;
  std::optional<DkimKey> rsa_, ed_;
  std::unique_ptr<test::DkimVerifiers> verifiers_;
  std::optional<media::AssembledMessage> message_;
};


TEST_F(SignedMessageTest, EveryVerifierPassesRsaEd25519AndDualUnderEveryCanonicalization) {
  ASSERT_TRUE(message_);
  std::vector<std::string> with_rsa, ed_only;
  for (auto [h, b] : {std::pair(C::kRelaxed, C::kRelaxed), std::pair(C::kSimple, C::kSimple),
                      std::pair(C::kRelaxed, C::kSimple), std::pair(C::kSimple, C::kRelaxed)}) {
    std::string c = std::string(canonicalizationName(h)) + "-" + std::string(canonicalizationName(b));
    with_rsa.push_back(signedFile("dkim-signed-rsa-" + c + ".eml", options(h, b), {&*rsa_}));
    with_rsa.push_back(signedFile("dkim-signed-dual-" + c + ".eml", options(h, b), {&*rsa_, &*ed_}));
    ed_only.push_back(signedFile("dkim-signed-ed-" + c + ".eml", options(h, b), {&*ed_}));
  }
  auto r = verifiers_->verify(with_rsa);
  EXPECT_TRUE(r.dkimpy_pass) << r.output;
  EXPECT_TRUE(r.mail_dkim_pass) << r.output;
  EXPECT_TRUE(r.mailauth_pass) << r.output;
  // Mail::DKIM before 1.20230630 cannot check ed25519-sha256 alone (DkimVerifiers::verify):
  // dkimpy and mailauth are the two verifiers of Ed25519.
  r = verifiers_->verify(ed_only);
  EXPECT_TRUE(r.dkimpy_pass) << r.output;
  EXPECT_TRUE(r.mailauth_pass) << r.output;
  EXPECT_EQ(r.output.find(" fail"), std::string::npos) << r.output;
}

TEST_F(SignedMessageTest, OneChangedByteInTheBodyOrASignedHeaderFails) {
  ASSERT_TRUE(message_);
  for (auto c : {C::kRelaxed, C::kSimple}) {
    std::string file = signedFile("dkim-signed-change.eml", options(c, c), {&*rsa_, &*ed_});
    auto good = verifiers_->verify({file});
    ASSERT_TRUE(good.dkimpy_pass && good.mail_dkim_pass && good.mailauth_pass) << good.output;
    for (auto [from, to] : {std::pair("our offer", "our offes"), std::pair("Reply-To: help@", "Reply-To: hElp@"),
                            std::pair("\r\nFrom: ", "\r\nFrom:  ")}) {
      // Relaxed header canonicalization makes one SP after the colon like two (RFC 6376 3.4.2).
      bool whitespace_only = std::string(to) == "\r\nFrom:  ";
      if (whitespace_only && c == C::kRelaxed) continue;
      auto bad = verifiers_->verify({changed(file, from, to)});
      EXPECT_FALSE(bad.dkimpy_pass) << from << "\n" << bad.output;
      EXPECT_FALSE(bad.mail_dkim_pass) << from << "\n" << bad.output;
      EXPECT_FALSE(bad.mailauth_pass) << from << "\n" << bad.output;
    }
  }
}

// What relaxed canonicalization is for: folding and WSP changed in transit still verify.
TEST_F(SignedMessageTest, RelaxedSurvivesWhitespaceChangesInSignedHeaders) {
  ASSERT_TRUE(message_);
  std::string file = signedFile("dkim-signed-relaxed.eml", options(C::kRelaxed, C::kRelaxed), {&*rsa_});
  auto r = verifiers_->verify({changed(file, "\r\nReply-To: ", "\r\nReply-To:\t  ")});
  EXPECT_TRUE(r.dkimpy_pass) << r.output;
  EXPECT_TRUE(r.mail_dkim_pass) << r.output;
  EXPECT_TRUE(r.mailauth_pass) << r.output;
}

}  // namespace
}  // namespace lbmail::dkim
