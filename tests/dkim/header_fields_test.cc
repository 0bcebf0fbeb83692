// Finding header fields and the body across slices.
#include "lbmail/dkim/header_fields.h"

#include <gtest/gtest.h>

namespace lbmail::dkim {
namespace {

std::vector<std::string> texts(const HeaderFields& h) {
  std::vector<std::string> out;
  for (const HeaderField& f : h.fields()) out.emplace_back(f.text);
  return out;
}

TEST(HeaderFieldsTest, FieldsAndBodyInOneSlice) {
  std::vector<std::string_view> slices = {"From: a@example.com\r\nSubject: hi\r\n there\r\nTo : b@example.org\r\n\r\nbody\r\n"};
  HeaderFields h(slices);
  ASSERT_EQ(h.fields().size(), 3u);
  EXPECT_EQ(h.fields()[0].name, "From");
  EXPECT_EQ(h.fields()[1].name, "Subject");
  EXPECT_EQ(h.fields()[1].text, "Subject: hi\r\n there");
  EXPECT_EQ(h.fields()[2].name, "To");  // WSP before the colon is not part of the name
  EXPECT_EQ(h.bodySlice(), 0u);
  EXPECT_EQ(slices[0].substr(h.bodyOffset()), "body\r\n");
}

// Every split of the message into two or three slices finds the same fields and body.
TEST(HeaderFieldsTest, EverySplitFindsTheSameFieldsAndBody) {
  const std::string message = "From: a@example.com\r\nSubject: folded\r\n\tline\r\n\r\nbody\r\n\r\n";
  const std::vector<std::string> expected = {"From: a@example.com", "Subject: folded\r\n\tline"};
  std::string_view m = message;
  for (size_t i = 0; i <= m.size(); ++i) {
    for (size_t j = i; j <= m.size(); ++j) {
      std::vector<std::string_view> slices = {m.substr(0, i), m.substr(i, j - i), m.substr(j)};
      HeaderFields h(slices);
      EXPECT_EQ(texts(h), expected) << i << "," << j;
      std::string body;
      for (size_t k = h.bodySlice(); k < slices.size(); ++k) {
        body.append(slices[k].substr(k == h.bodySlice() ? h.bodyOffset() : 0));
      }
      EXPECT_EQ(body, "body\r\n\r\n") << i << "," << j;
    }
  }
}

TEST(HeaderFieldsTest, NoEmptyLineIsAllHeader) {
  std::vector<std::string_view> slices = {"From: a@example.com\r\n", "Subject: x"};
  HeaderFields h(slices);
  EXPECT_EQ(texts(h), (std::vector<std::string>{"From: a@example.com", "Subject: x"}));
  EXPECT_EQ(h.bodySlice(), 2u);
  EXPECT_EQ(h.bodyOffset(), 0u);
}

TEST(HeaderFieldsTest, EmptyHeaderSectionAndEmptyBody) {
  std::vector<std::string_view> opens_with_crlf = {"\r\nbody"};
  HeaderFields h(opens_with_crlf);
  EXPECT_TRUE(h.fields().empty());
  EXPECT_EQ(h.bodyOffset(), 2u);

  std::vector<std::string_view> header_only = {"From: a@example.com\r\n\r\n"};
  HeaderFields g(header_only);
  EXPECT_EQ(texts(g), std::vector<std::string>{"From: a@example.com"});
  EXPECT_EQ(g.bodySlice(), 1u);

  std::vector<std::string_view> nothing;
  HeaderFields n(nothing);
  EXPECT_TRUE(n.fields().empty());
  EXPECT_EQ(n.bodySlice(), 0u);
}

// A header section of size octets (fields with their CRLFs): From, then X: filler.
std::string headerSectionOf(size_t size) {
  std::string from = "From: a@example.com\r\n";
  return from + "X: " + std::string(size - from.size() - 5, 'x') + "\r\n";
}

TEST(HeaderFieldsTest, HeaderSectionUpTo1MiB) {
  constexpr size_t kMax = HeaderFields::kMaxHeaderSectionOctets;
  std::string at_limit = headerSectionOf(kMax) + "\r\nbody\r\n";
  std::string_view m = at_limit;
  // Split inside the section, so the limit counts across slices.
  std::vector<std::string_view> slices = {m.substr(0, 1000), m.substr(1000)};
  HeaderFields h(slices);
  EXPECT_FALSE(h.tooLarge());
  ASSERT_EQ(h.fields().size(), 2u);
  EXPECT_EQ(h.fields()[1].text.size(), kMax - std::string("From: a@example.com\r\n").size() - 2);
  EXPECT_EQ(h.bodySlice(), 1u);
  EXPECT_EQ(m.substr(1000).substr(h.bodyOffset()), "body\r\n");

  std::string over = headerSectionOf(kMax + 1) + "\r\nbody\r\n";
  std::vector<std::string_view> over_slices = {std::string_view(over).substr(0, 1000),
                                               std::string_view(over).substr(1000)};
  HeaderFields g(over_slices);
  EXPECT_TRUE(g.tooLarge());
  EXPECT_TRUE(g.fields().empty());
  EXPECT_EQ(g.bodySlice(), 2u);

  std::string no_empty_line(kMax + 100, 'x');
  std::vector<std::string_view> one = {no_empty_line};
  HeaderFields n(one);
  EXPECT_TRUE(n.tooLarge());
  EXPECT_TRUE(n.fields().empty());
}

TEST(HeaderFieldsTest, FieldWithoutColonKeepsItsText) {
  std::vector<std::string_view> slices = {"garbage line\r\nFrom: a@example.com\r\n\r\n"};
  HeaderFields h(slices);
  ASSERT_EQ(h.fields().size(), 2u);
  EXPECT_EQ(h.fields()[0].name, "garbage line");
  EXPECT_EQ(h.fields()[1].name, "From");
}

}  // namespace
}  // namespace lbmail::dkim
