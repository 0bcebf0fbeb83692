// Tests of the one escaper behind JSON strings and quoted log values.
#include "lbmail/core/quoted_string.h"

#include <gtest/gtest.h>

namespace lbmail {
namespace {

std::string quoted(std::string_view s, QuoteStyle style) {
  std::string out;
  appendQuoted(out, s, style);
  return out;
}

TEST(QuotedString, BothStylesEscapeQuotesBackslashesAndLineBreaks) {
  for (QuoteStyle style : {QuoteStyle::kJson, QuoteStyle::kLog}) {
    EXPECT_EQ(quoted("a \"b\" \\ c\r\n\t", style), "\"a \\\"b\\\" \\\\ c\\r\\n\\t\"");
    EXPECT_EQ(quoted("", style), "\"\"");
  }
}

TEST(QuotedString, ControlCharactersFollowTheStyle) {
  EXPECT_EQ(quoted(std::string_view("\x00\x1f\x7f", 3), QuoteStyle::kJson), "\"\\u0000\\u001f\\u007f\"");
  EXPECT_EQ(quoted(std::string_view("\x00\x1f\x7f", 3), QuoteStyle::kLog), "\"\\x00\\x1f\\x7f\"");
}

TEST(QuotedString, JsonReplacesBytesThatAreNotUtf8AndLogKeepsThem) {
  // A well-formed two-byte sequence, a lone continuation byte, an overlong form, a truncated one.
  std::string_view text = "\xC3\xA9 \x80 \xC0\xAF \xE2\x82";
  EXPECT_EQ(quoted(text, QuoteStyle::kJson),
            "\"\xC3\xA9 \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(quoted(text, QuoteStyle::kLog), "\"" + std::string(text) + "\"");
}

}  // namespace
}  // namespace lbmail
