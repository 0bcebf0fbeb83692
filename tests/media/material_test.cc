// Tests for src/media/material.cc: every definition error is found when the material is
// defined, with a message that says what to fix.
#include "lbmail/media/material.h"

#include <gtest/gtest.h>

#include "media_fixture.h"

namespace lbmail::media {
namespace {

class MaterialTest : public ::testing::Test {
 protected:
  MaterialTest() : f_("material") {
    f_.addRandomFile("brochure.pdf", 1000);
    f_.addRandomFile("logo.png", 500);
    report_ = f_.build();
    cache_ = f_.load();
  }

  MaterialSpec spec() {
    MaterialSpec s;
    s.from = "Shop <news@shop.example>";
    s.subject = "Hello {{first_name}}";
    s.text = "Dear {{first_name|friend}}\n";
    s.html = "<p>Dear {{first_name}}</p><img src=\"cid:logo@shop\">";
    s.fields = {"first_name", "id"};
    s.media = {{f_.hashOf(report_, "brochure.pdf"), false, "brochure.pdf"},
               {f_.hashOf(report_, "logo.png"), true, "logo@shop"}};
    return s;
  }

  std::string error(const MaterialSpec& s) {
    auto m = Material::define(s, cache_);
    return m ? "<defined>" : m.error().text;
  }

  test::MediaFixture f_;
  BuildReport report_;
  MediaCache cache_;
};

TEST_F(MaterialTest, AValidMaterialIsDefined) {
  auto m = Material::define(spec(), cache_);
  ASSERT_TRUE(m) << m.error().text;
  EXPECT_EQ((*m)->fields().size(), 2u);
  EXPECT_TRUE((*m)->inHeader(0));       // first_name is in the subject
  EXPECT_FALSE((*m)->used(1));          // id is declared but unused
  EXPECT_TRUE((*m)->requiresValue(0));  // used without a default in the subject and HTML
  EXPECT_EQ((*m)->fromDomain(), "shop.example");
  EXPECT_EQ((*m)->mediaBytes(), cache_.find(f_.hashOf(report_, "brochure.pdf"))->encoded().size() +
                                    cache_.find(f_.hashOf(report_, "logo.png"))->encoded().size());
}

TEST_F(MaterialTest, UnknownFieldsAreFoundAtDefinition) {
  MaterialSpec s = spec();
  s.html = "<p>{{surname}}</p>";
  EXPECT_EQ(error(s), "HTML body: at offset 3: unknown merge field 'surname'");
  s = spec();
  s.subject = "{{first_name";
  EXPECT_EQ(error(s), "subject: at offset 0: '{{' without '}}'");
}

TEST_F(MaterialTest, MissingMediaListsEveryMissingHash) {
  MaterialSpec s = spec();
  MediaHash a{}, b{};
  a[0] = 1;
  b[0] = 2;
  s.media.push_back({a, false, "x.pdf"});
  s.media.push_back({b, false, "y.pdf"});
  auto m = Material::define(s, cache_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().missing_media, (std::vector<MediaHash>{a, b}));
  EXPECT_EQ(m.error().text, "missing media: " + hashToHex(a) + " " + hashToHex(b));
}

TEST_F(MaterialTest, AddressesAreChecked) {
  MaterialSpec s = spec();
  s.from = "";
  EXPECT_EQ(error(s), "From is required");
  s.from = "Shop <not an address>";
  EXPECT_EQ(error(s), "From address: no '@'");
  s.from = "Shop\r\nBcc: victim@example.com <news@shop.example>";
  EXPECT_EQ(error(s), "From display name: one line of UTF-8, at most 255 octets");
  s = spec();
  s.reply_to = "help@shop.example\r\nX-Injected: 1";
  EXPECT_NE(error(s), "<defined>");
}

TEST_F(MaterialTest, HeaderTemplatesMustBeOneLine) {
  MaterialSpec s = spec();
  s.subject = "Hi\r\nBcc: victim@example.com";
  EXPECT_EQ(error(s), "subject contains a line break");
  s.subject = "Hi {{first_name|a\nb}}";
  EXPECT_EQ(error(s), "subject contains a line break");
  s.subject = "bad \xff utf-8";
  EXPECT_EQ(error(s), "subject is not valid UTF-8");
}

TEST_F(MaterialTest, MediaReferencesAreChecked) {
  MaterialSpec s = spec();
  s.html = "<img src=\"cid:other\">";
  EXPECT_EQ(error(s), "HTML body refers to cid:other but no inline image has that Content-ID");
  s = spec();
  s.html = "<img src='cid:nope'>";
  EXPECT_EQ(error(s), "HTML body refers to cid:nope but no inline image has that Content-ID");
  s = spec();
  s.html.clear();
  EXPECT_EQ(error(s), "inline images need an HTML body to show them");
  s = spec();
  s.html += "<p>Stay placid:calm</p>";  // not a reference
  EXPECT_EQ(error(s), "<defined>");
  s = spec();
  s.media[1].name = "bad id";
  EXPECT_EQ(error(s), "inline image Content-ID 'bad id' is not valid");
  s = spec();
  s.media.push_back(s.media[1]);
  EXPECT_EQ(error(s), "inline image Content-ID 'logo@shop' used twice");
  s = spec();
  s.media[0].name = "a\nb.pdf";
  EXPECT_EQ(error(s), "attachment name 'a\nb.pdf': control character or tab in name");
}

// The checks themselves are in list_headers_test.cc; a material refuses what they refuse.
TEST_F(MaterialTest, ListIdAndFeedbackIdAreFixedHeaders) {
  MaterialSpec s = spec();
  s.list_id = "news.shop.example";
  EXPECT_EQ(error(s), "List-Id: expected 'Name <id.domain>' or '<id.domain>'");
  s.list_id = "<news.shop.example>";
  s.feedback_id = "{{id}}:shopmail";
  EXPECT_EQ(error(s), "Feedback-ID: merge fields are not allowed (it is the same in every message)");
  s.feedback_id = "c1:shopmail";
  auto m = Material::define(s, cache_);
  ASSERT_TRUE(m) << m.error().text;
  EXPECT_NE((*m)->fixedHeaders().find("List-Id: <news.shop.example>\r\nFeedback-ID: c1:shopmail\r\n"),
            std::string::npos);
  s.list_id.clear();
  s.feedback_id.clear();
  m = Material::define(s, cache_);
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->fixedHeaders().find("List-Id"), std::string::npos);
  EXPECT_EQ((*m)->fixedHeaders().find("Feedback-ID"), std::string::npos);
}

TEST_F(MaterialTest, ListUnsubscribeShape) {
  MaterialSpec s = spec();
  s.list_unsubscribe = "https://shop.example/u";
  EXPECT_EQ(error(s), "List-Unsubscribe: expected <URI>, <URI>...");
  s.list_unsubscribe = "<https://shop.example/u?id={{id}}>, <mailto:unsub@shop.example>";
  auto m = Material::define(s, cache_);
  ASSERT_TRUE(m) << m.error().text;
  EXPECT_NE((*m)->fixedHeaders().find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  s.list_unsubscribe = "<https://shop.example/" + std::string(990, 'u') + ">";
  EXPECT_EQ(error(s), "List-Unsubscribe: longer than a header line may be (998 octets)");
  s.list_unsubscribe = "<mailto:unsub@shop.example>";
  m = Material::define(s, cache_);
  ASSERT_TRUE(m);
  // RFC 8058 one-click needs an HTTPS URI.
  EXPECT_EQ((*m)->fixedHeaders().find("List-Unsubscribe-Post"), std::string::npos);
}

TEST_F(MaterialTest, NeedsABodyAndValidFieldNames) {
  MaterialSpec s = spec();
  s.text.clear();
  s.html.clear();
  EXPECT_EQ(error(s), "a material needs a text or an HTML body");
  s = spec();
  s.fields.push_back("first_name");
  EXPECT_EQ(error(s), "field 'first_name': field declared twice");
}

}  // namespace
}  // namespace lbmail::media
