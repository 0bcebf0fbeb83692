// Tests for src/media/message_template.cc: merge fields, defaults, the url filter and malformed
// braces.
#include "lbmail/media/message_template.h"

#include <gtest/gtest.h>

namespace lbmail::media {
namespace {

FieldTable table() {
  FieldTable t;
  EXPECT_EQ(t.declare("first_name"), nullptr);
  EXPECT_EQ(t.declare("city"), nullptr);
  return t;
}

TEST(MessageTemplate, SplitsLiteralsAndFields) {
  auto t = MessageTemplate::compile("Hi {{first_name}}, news from {{ city | your town }}!", table());
  ASSERT_TRUE(t) << t.error();
  const auto& s = t->segments();
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].text, "Hi ");
  EXPECT_EQ(s[1].field, 0);
  EXPECT_FALSE(s[1].has_default);
  EXPECT_EQ(s[2].text, ", news from ");
  EXPECT_EQ(s[3].field, 1);
  EXPECT_TRUE(s[3].has_default);
  EXPECT_EQ(s[3].text, " your town ");  // defaults keep their blanks
  EXPECT_EQ(s[4].text, "!");
  EXPECT_TRUE(t->usesFields());
}

TEST(MessageTemplate, EmailIsBuiltIn) {
  auto t = MessageTemplate::compile("to {{email}}", table());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->segments()[1].field, TemplateSegment::kEmail);
  FieldTable f;
  EXPECT_NE(f.declare("email"), nullptr);
}

TEST(MessageTemplate, UrlFilterWithAndWithoutDefault) {
  auto t = MessageTemplate::compile("{{city|url}} {{ city | url |Oslo}} {{city|urls}} {{city|url|url}} {{city}}",
                                    table());
  ASSERT_TRUE(t) << t.error();
  const auto& s = t->segments();
  ASSERT_EQ(s.size(), 9u);
  EXPECT_TRUE(s[0].url_encode);
  EXPECT_FALSE(s[0].has_default);
  EXPECT_TRUE(s[2].url_encode);
  EXPECT_TRUE(s[2].has_default);
  EXPECT_EQ(s[2].text, "Oslo");
  // Anything else after '|' is a default, as before.
  EXPECT_FALSE(s[4].url_encode);
  EXPECT_EQ(s[4].text, "urls");
  EXPECT_TRUE(s[6].url_encode);
  EXPECT_EQ(s[6].text, "url");
  EXPECT_FALSE(s[8].url_encode);
  EXPECT_FALSE(s[8].has_default);
}

TEST(MessageTemplate, SingleBracesAndEmptyDefaultsAreFine) {
  auto t = MessageTemplate::compile("{ json: {a} } }} {{city|}}", table());
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->segments()[0].text, "{ json: {a} } }} ");
  EXPECT_TRUE(t->segments()[1].has_default);
  EXPECT_EQ(t->segments()[1].text, "");
  auto plain = MessageTemplate::compile("no fields at all", table());
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->usesFields());
}

TEST(MessageTemplate, MalformedBracesAreErrorsWithOffsets) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c :
       {Case{"Hi {{first_name", "at offset 3: '{{' without '}}'"},
        Case{"Hi {{first_name}", "at offset 3: '{{' without '}}'"}, Case{"{{}}", "at offset 0: empty merge field name"},
        Case{"{{ |x}}", "at offset 0: empty merge field name"},
        Case{"a {{first{{name}}", "at offset 2: '{{' inside a merge field"},
        Case{"{{first name}}", "at offset 0: bad merge field name 'first name' (1 to 64 of A-Z a-z 0-9 _ - .)"},
        Case{"x {{surname}}", "at offset 2: unknown merge field 'surname'"}}) {
    auto t = MessageTemplate::compile(c.text, table());
    ASSERT_FALSE(t) << c.text;
    EXPECT_EQ(t.error(), c.error) << c.text;
  }
}

TEST(MessageTemplate, NamesWithControlBytesAreShownSafely) {
  auto t = MessageTemplate::compile(std::string("{{a\r\nb}}"), table());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().find('\r'), std::string::npos);
}

TEST(FieldTable, RefusesBadAndRepeatedNames) {
  FieldTable t;
  EXPECT_EQ(t.declare("a.b-c_1"), nullptr);
  EXPECT_NE(t.declare("a.b-c_1"), nullptr);
  EXPECT_NE(t.declare(""), nullptr);
  EXPECT_NE(t.declare(std::string(65, 'x')), nullptr);
  EXPECT_NE(t.declare("x|y"), nullptr);
  EXPECT_EQ(t.find("a.b-c_1"), 0);
  EXPECT_EQ(t.find("nope"), -1);
}

// A MATERIAL may declare as many fields as a SEND may carry, and no more; each is found by name.
TEST(FieldTable, HoldsAtMostASendsWorthOfFields) {
  FieldTable t;
  for (size_t i = 0; i < kMaxFields; ++i) ASSERT_EQ(t.declare("f" + std::to_string(i)), nullptr) << i;
  EXPECT_STREQ(t.declare("one.more"), "more than 1024 merge fields");
  EXPECT_EQ(t.size(), kMaxFields);
  for (size_t i = 0; i < kMaxFields; ++i) ASSERT_EQ(t.find("f" + std::to_string(i)), static_cast<int>(i));
  EXPECT_EQ(t.find("one.more"), -1);
  EXPECT_EQ(t.name(7), "f7");
}

}  // namespace
}  // namespace lbmail::media
