// Tests for src/media/message_assembler.cc: assembled messages parsed by Python's email
// package (default policy), as a mail client would: structure, decoded headers, bodies, and
// attachments byte-identical to their sources; hostile merge fields; zero-copy media.
#include "lbmail/media/message_assembler.h"

#include <gtest/gtest.h>

#include "lbmail/smtp/dot_stuffing.h"
#include "media_fixture.h"
#include "mime_check.h"

namespace lbmail::media {
namespace {

using test::MimeView;
using test::parseWithPython;

constexpr std::time_t kDate = 1796177790;  // Wed, 02 Dec 2026 02:16:30 +0000

class AssemblerTest : public ::testing::Test {
 protected:
  AssemblerTest() : f_("assembler") {
    pdf_ = f_.addRandomFile("brochure.pdf", 150000);
    png_ = f_.addRandomFile("logo.png", 4000);
    umlaut_ = f_.addRandomFile("Prospekt Müller.pdf", 2000);
    report_ = f_.build();
    cache_ = f_.load();
  }

  MaterialSpec spec() {
    MaterialSpec s;
    s.from = "Shop News <news@shop.example>";
    s.reply_to = "help@shop.example";
    s.subject = "{{first_name}}, your offer";
    s.text = "Dear {{first_name|friend}},\nour offer for {{city}}.\n.\n";
    s.html = "<p>Dear {{first_name|friend}}, offer for {{city}}</p>\n<img src=\"cid:logo@shop\">\n";
    s.list_unsubscribe = "<https://shop.example/u?id={{id}}>, <mailto:unsub@shop.example?subject={{id}}>";
    s.fields = {"first_name", "city", "id"};
    s.media = {{f_.hashOf(report_, "brochure.pdf"), false, "brochure.pdf"},
               {f_.hashOf(report_, "logo.png"), true, "logo@shop"}};
    return s;
  }

  std::shared_ptr<const Material> define(const MaterialSpec& s) {
    auto m = Material::define(s, cache_);
    EXPECT_TRUE(m) << m.error().text;
    return m ? *m : nullptr;
  }

  Expected<AssembledMessage, AssemblyError> assemble(const std::shared_ptr<const Material>& m,
                                                     std::vector<std::optional<std::string_view>> fields,
                                                     std::string_view to = "alice@example.com") {
    fields_ = std::move(fields);
    MessageRequest r;
    r.request_id = 4242;
    r.recipient = to;
    r.fields = fields_;
    r.date = kDate;
    return assembler_.assemble(m, r);
  }

  MimeView parsed(const AssembledMessage& msg) {
    MimeView v = parseWithPython(msg.flatten());
    EXPECT_TRUE(v.ok) << v.error;
    EXPECT_EQ(v.get("defects"), "");
    EXPECT_EQ(v.get("bare_newlines"), "0");
    EXPECT_EQ(v.get("dot_lines"), "0");
    EXPECT_EQ(v.get("ends_crlf"), "1");
    EXPECT_LE(std::stoul(v.get("max_line")), 998u);
    return v;
  }

  test::MediaFixture f_;
  std::string pdf_, png_, umlaut_;
  BuildReport report_;
  MediaCache cache_;
  MessageAssembler assembler_;
  std::vector<std::optional<std::string_view>> fields_;
};

TEST_F(AssemblerTest, FullMessageParsesAsIntended) {
  auto m = define(spec());
  auto msg = assemble(m, {"Ana", "Zürich", "u-17"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);
  EXPECT_EQ(
      v.get("structure"),
      "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),application/pdf)");
  EXPECT_EQ(v.get("header.Date"), "Wed, 02 Dec 2026 02:16:30 +0000");
  EXPECT_EQ(v.get("header.From"), "Shop News <news@shop.example>");
  EXPECT_EQ(v.get("header.Reply-To"), "help@shop.example");
  EXPECT_EQ(v.get("header.To"), "alice@example.com");
  EXPECT_EQ(v.get("header.Subject"), "Ana, your offer");
  EXPECT_EQ(v.get("header.Message-ID"), "<lbm.1092@shop.example>");
  EXPECT_EQ(v.get("header.X-Lbmail-Id"), "4242");
  EXPECT_EQ(v.get("header.MIME-Version"), "1.0");
  EXPECT_EQ(v.get("header.List-Unsubscribe"),
            "<https://shop.example/u?id=u-17>, <mailto:unsub@shop.example?subject=u-17>");
  EXPECT_EQ(v.get("header.List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");

  EXPECT_EQ(v.get("parts"), "4");
  EXPECT_EQ(v.get("part.0.content"), "Dear Ana,\nour offer for Zürich.\n.\n");
  EXPECT_EQ(v.get("part.0.cte"), "quoted-printable");
  EXPECT_EQ(v.get("part.1.content"), "<p>Dear Ana, offer for Zürich</p>\n<img src=\"cid:logo@shop\">\n");
  EXPECT_EQ(v.get("part.2.type"), "image/png");
  EXPECT_EQ(v.get("part.2.cid"), "<logo@shop>");
  EXPECT_EQ(v.get("part.2.disposition"), "inline");
  EXPECT_EQ(v.get("part.2.content"), png_);
  EXPECT_EQ(v.get("part.3.type"), "application/pdf");
  EXPECT_EQ(v.get("part.3.disposition"), "attachment");
  EXPECT_EQ(v.get("part.3.filename"), "brochure.pdf");
  EXPECT_EQ(v.get("part.3.cte"), "base64");
  EXPECT_EQ(v.get("part.3.content"), pdf_);
}

TEST_F(AssemblerTest, MediaBytesAreSlicesOfTheMappingNeverCopies) {
  auto m = define(spec());
  auto msg = assemble(m, {"Ana", "Zürich", "u-17"});
  ASSERT_TRUE(msg);
  std::string_view pdf = cache_.find(f_.hashOf(report_, "brochure.pdf"))->encoded();
  bool found = false;
  for (std::string_view s : msg->slices()) found |= s.data() == pdf.data() && s.size() == pdf.size();
  EXPECT_TRUE(found) << "the attachment is not handed out as a slice of its mapping";
  EXPECT_GT(msg->size(), pdf.size());
  EXPECT_LT(msg->personalisedSize(), 2000u);
  // The message keeps the material, and so the mappings, alive after everything else is gone.
  std::shared_ptr<const void> owner = msg->owner();
  std::string flat = msg->flatten();
  m.reset();
  cache_ = MediaCache();
  std::string again;
  for (std::string_view s : msg->slices()) again.append(s);
  EXPECT_EQ(again, flat);
}

TEST_F(AssemblerTest, OptionalPartsAndLevelsAreLeftOut) {
  MaterialSpec s = spec();
  s.media.clear();
  s.html.clear();
  s.reply_to.clear();
  s.list_unsubscribe.clear();
  auto msg = assemble(define(s), {"Ana", "Oslo", std::nullopt});
  ASSERT_TRUE(msg);
  MimeView v = parsed(*msg);
  EXPECT_EQ(v.get("structure"), "text/plain");
  EXPECT_EQ(v.get("part.0.content"), "Dear Ana,\nour offer for Oslo.\n.\n");
  EXPECT_EQ(v.get("header.Reply-To"), "<absent>");
  EXPECT_EQ(v.get("header.List-Unsubscribe"), "<absent>");

  s = spec();
  s.text.clear();
  msg = assemble(define(s), {"Ana", "Oslo", "1"});
  ASSERT_TRUE(msg);
  EXPECT_EQ(parsed(*msg).get("structure"), "multipart/mixed(multipart/related(text/html,image/png),application/pdf)");
}

TEST_F(AssemblerTest, NonAsciiHeadersAndFileNamesDecode) {
  MaterialSpec s = spec();
  s.from = "Müller & Söhne GmbH <news@shop.example>";
  s.subject = "Grüße aus {{city}} — {{first_name}} 🎉";
  s.media.push_back({f_.hashOf(report_, "Prospekt Müller.pdf"), false, "Prospekt Müller.pdf"});
  auto msg = assemble(define(s), {"Zoë", "Köln", "x"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);
  EXPECT_EQ(v.get("header.From"), "Müller & Söhne GmbH <news@shop.example>");
  EXPECT_EQ(v.get("header.Subject"), "Grüße aus Köln — Zoë 🎉");
  EXPECT_GT(std::stoul(v.get("max_encoded_word_line")), 0u);
  EXPECT_LE(std::stoul(v.get("max_encoded_word_line")), 76u);
  EXPECT_EQ(v.get("part.4.filename"), "Prospekt Müller.pdf");
  EXPECT_EQ(v.get("part.4.content"), umlaut_);
}

TEST_F(AssemblerTest, QuotedDisplayNames) {
  MaterialSpec s = spec();
  s.from = "\"Shop, Inc. (news)\" <news@shop.example>";
  auto msg = assemble(define(s), {"a", "b", "c"});
  ASSERT_TRUE(msg);
  EXPECT_EQ(parsed(*msg).get("header.From"), "\"Shop, Inc. (news)\" <news@shop.example>");
  s.from = "\"Smith, \\\"Bob\\\"\" <bob@shop.example>";  // "Smith, \"Bob\"" <bob@shop.example>
  msg = assemble(define(s), {"a", "b", "c"});
  ASSERT_TRUE(msg);
  EXPECT_EQ(parsed(*msg).get("header.From.display"), "Smith, \"Bob\"");
}

TEST_F(AssemblerTest, LineBreaksInHeaderFieldsAreRefused) {
  auto m = define(spec());
  for (std::string_view evil : {"Ana\r\nBcc: victim@example.com", "Ana\nBcc: x@y.z", "Ana\r"}) {
    auto msg = assemble(m, {evil, "Oslo", "1"});
    ASSERT_FALSE(msg) << evil;
    EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kBadField);
    EXPECT_EQ(msg.error().text, "field 'first_name' is used in a header and contains a line break");
  }
}

TEST_F(AssemblerTest, LineBreaksInBodyFieldsAreEncodedSafely) {
  MaterialSpec s = spec();
  s.list_unsubscribe.clear();
  auto m = define(s);
  auto msg = assemble(m, {"Ana", "Oslo\r\n.\r\nQUIT\r\nContent-Type: text/evil\n", "1"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);
  EXPECT_EQ(
      v.get("structure"),
      "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,image/png)),application/pdf)");
  EXPECT_EQ(v.get("part.0.content"), "Dear Ana,\nour offer for Oslo\n.\nQUIT\nContent-Type: text/evil\n.\n.\n");
  // In HTML, a value is text: markup in it is escaped.
  EXPECT_NE(v.get("part.1.content").find("offer for Oslo\n.\nQUIT"), std::string::npos);
}

TEST_F(AssemblerTest, HtmlInValuesIsEscaped) {
  auto msg = assemble(define(spec()), {"<script>alert('x')</script>", "A&B", "1"});
  ASSERT_TRUE(msg);
  MimeView v = parsed(*msg);
  EXPECT_EQ(
      v.get("part.1.content"),
      "<p>Dear &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;, offer for A&amp;B</p>\n<img src=\"cid:logo@shop\">\n");
  EXPECT_EQ(v.get("part.0.content"), "Dear <script>alert('x')</script>,\nour offer for A&B.\n.\n");
}

// A value inside a link: {{field|url}} percent-encodes it (RFC 3986 section 2.3), then HTML
// escaping applies as to any value; plain {{field}} is only escaped.
TEST_F(AssemblerTest, UrlFilterPercentEncodesValuesInLinks) {
  MaterialSpec s = spec();
  s.subject = "Hi {{first_name|url|you}}";
  s.text = "https://shop.example/o?c={{city|url}}&n={{first_name|url|x y}}\n";
  s.html = "<a href=\"https://shop.example/o?c={{city|url}}\">{{city}}</a><img src=\"cid:logo@shop\">";
  auto m = define(s);
  auto msg = assemble(m, {std::nullopt, "S\xc3\xa3o Paulo & \"R\"/<x>?a=1#f~._-", "1"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);
  const std::string encoded = "S%C3%A3o%20Paulo%20%26%20%22R%22%2F%3Cx%3E%3Fa%3D1%23f~._-";
  EXPECT_EQ(v.get("header.Subject"), "Hi you");
  EXPECT_EQ(v.get("part.0.content"), "https://shop.example/o?c=" + encoded + "&n=x%20y\n");
  EXPECT_EQ(v.get("part.1.content"), "<a href=\"https://shop.example/o?c=" + encoded +
                                         "\">S\xc3\xa3o Paulo &amp; &quot;R&quot;/&lt;x&gt;?a=1#f~._-</a>"
                                         "<img src=\"cid:logo@shop\">");
  msg = assemble(m, {"Ana Lu", "Oslo", "1"});
  ASSERT_TRUE(msg) << msg.error().text;
  EXPECT_EQ(parsed(*msg).get("header.Subject"), "Hi Ana%20Lu");
}

// A Quoted-string local part is an addr-spec in To: as it is (RFC 5322 section 3.4.1).
TEST_F(AssemblerTest, QuotedLocalPartsAreWrittenAsTheyAre) {
  auto msg = assemble(define(spec()), {"Ana", "Oslo", "1"}, "\"quoted local\"@web.test");
  ASSERT_TRUE(msg) << msg.error().text;
  EXPECT_EQ(parsed(*msg).get("header.To"), "\"quoted local\"@web.test");
  msg = assemble(define(spec()), {"Ana", "Oslo", "1"}, "\"a>b\"@web.test");
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kBadAddress);
}

TEST_F(AssemblerTest, NulAndBadUtf8AreRefused) {
  auto m = define(spec());
  auto msg = assemble(m, {"Ana", std::string_view("Os\0lo", 5), "1"});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().text, "field 'city' is not UTF-8 text (NUL or bad octets)");
  msg = assemble(m, {"Ana", "\xc3\x28", "1"});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kBadField);
}

TEST_F(AssemblerTest, MissingFieldsAndDefaults) {
  MaterialSpec s = spec();
  s.subject = "Offer for {{first_name|you}}";
  s.html = "<p>{{first_name|friend}}</p><img src=\"cid:logo@shop\">";
  auto m = define(s);
  // first_name has a default everywhere: absent or empty both take it.
  auto msg = assemble(m, {std::nullopt, "Oslo", "1"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);
  EXPECT_EQ(v.get("header.Subject"), "Offer for you");
  EXPECT_EQ(v.get("part.0.content"), "Dear friend,\nour offer for Oslo.\n.\n");
  msg = assemble(m, {"", "Oslo", "1"});
  ASSERT_TRUE(msg);
  EXPECT_EQ(parsed(*msg).get("header.Subject"), "Offer for you");
  // city has no default: a request without it is refused before anything is built.
  msg = assemble(m, {"Ana", std::nullopt, "1"});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kMissingField);
  EXPECT_EQ(msg.error().text, "field 'city' has no value and no default");
}

TEST_F(AssemblerTest, VeryLongValuesKeepEveryLineShort) {
  std::string long_word(20000, 'x');
  std::string long_text;
  for (int i = 0; i < 3000; ++i) long_text += "wörd ";
  auto msg = assemble(define(spec()), {long_word, long_text, "1"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);  // checks every line <= 998
  EXPECT_EQ(v.get("header.Subject"), long_word + ", your offer");
  EXPECT_EQ(v.get("part.0.content"), "Dear " + long_word + ",\nour offer for " + long_text + ".\n.\n");
}

TEST_F(AssemblerTest, ListUnsubscribeValuesArePercentEncodedAndBounded) {
  auto m = define(spec());
  auto msg = assemble(m, {"Ana", "Oslo", "a b>,<x&y"});
  ASSERT_TRUE(msg);
  EXPECT_EQ(parsed(*msg).get("header.List-Unsubscribe"),
            "<https://shop.example/u?id=a%20b%3E%2C%3Cx%26y>, <mailto:unsub@shop.example?subject=a%20b%3E%2C%3Cx%26y>");
  std::string huge(400, '<');
  msg = assemble(m, {"Ana", "Oslo", huge});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kTooLong);
}

// List-Id and Feedback-ID are written once per material, and a mail client reads them back.
TEST_F(AssemblerTest, ListIdAndFeedbackIdHeaders) {
  MaterialSpec s = spec();
  s.list_id = "Shop News <news.shop.example>";
  s.feedback_id = "spring26:list7:acct1:shopmail";
  auto m = define(s);
  auto msg = assemble(m, {"Ana", "Oslo", "u-1"});
  ASSERT_TRUE(msg) << msg.error().text;
  MimeView v = parsed(*msg);
  EXPECT_EQ(v.get("header.List-Id"), "Shop News <news.shop.example>");
  EXPECT_EQ(v.get("header.Feedback-ID"), "spring26:list7:acct1:shopmail");
  EXPECT_EQ(v.get("header.From"), "Shop News <news@shop.example>");  // the headers around are intact
  EXPECT_EQ(v.get("header.To"), "alice@example.com");
  // Each once, in the header section.
  std::string flat = msg->flatten();
  std::string head = flat.substr(0, flat.find("\r\n\r\n") + 2);
  EXPECT_EQ(head.find("List-Id:"), head.rfind("List-Id:"));
  EXPECT_NE(head.find("\r\nList-Id: Shop News <news.shop.example>\r\n"), std::string::npos);
  EXPECT_NE(head.find("\r\nFeedback-ID: spring26:list7:acct1:shopmail\r\n"), std::string::npos);
}

TEST_F(AssemblerTest, RecipientAndMessageIdAreChecked) {
  auto m = define(spec());
  auto msg = assemble(m, {"Ana", "Oslo", "1"}, "bob@example.com\r\nBcc: x@y.z");
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kBadAddress);
  msg = assemble(m, {"Ana", "Oslo", "1"}, "not-an-address");
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().text, "recipient: no '@'");

  fields_ = {"Ana", "Oslo", "1"};
  MessageRequest r;
  r.recipient = "bob@example.com";
  r.fields = fields_;
  r.message_id = "<campaign7.bob@shop.example>";
  auto ok = assembler_.assemble(m, r);
  ASSERT_TRUE(ok);
  EXPECT_EQ(parsed(*ok).get("header.Message-ID"), "<campaign7.bob@shop.example>");
  r.message_id = "<x@y>\r\nBcc: z@w";
  EXPECT_FALSE(assembler_.assemble(m, r));
}

TEST_F(AssemblerTest, AmplifiedValuesAreBounded) {
  MaterialSpec s = spec();
  s.text.clear();
  for (int i = 0; i < 300; ++i) s.text += "{{city}}";
  auto m = define(s);
  std::string big(60000, 'a');
  auto msg = assemble(m, {"Ana", big, "1"});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, AssemblyError::Kind::kTooLong);
}

TEST_F(AssemblerTest, ReadyForDataWithoutAStuffingScan) {
  auto msg = assemble(define(spec()), {".Ana", ".\r\n.", "1"});
  ASSERT_TRUE(msg);
  std::vector<std::string_view> body(msg->slices().begin(), msg->slices().end());
  std::vector<std::string_view> scanned, unscanned;
  smtp::appendDataContent(body, true, scanned);
  smtp::appendDataContent(body, false, unscanned);
  // With the scan on, the client would split a slice before any line-leading dot: none is there.
  EXPECT_EQ(scanned.size(), unscanned.size());
}

}  // namespace
}  // namespace lbmail::media
