// Header canonicalization and the c= names (RFC 6376 3.4.1, 3.4.2, 3.5).
#include "lbmail/dkim/canonicalization.h"

#include <gtest/gtest.h>

namespace lbmail::dkim {
namespace {

std::string canonical(std::string_view field, Canonicalization c) {
  std::string out;
  appendCanonicalHeader(out, field, c);
  return out;
}

// RFC 6376 3.4.5's example header fields.
TEST(CanonicalizationTest, Rfc6376Example) {
  const std::string a = "A: X";
  const std::string b = "B : Y\t\r\n\tZ  ";
  EXPECT_EQ(canonical(a, Canonicalization::kRelaxed) + canonical(b, Canonicalization::kRelaxed),
            "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(canonical(a, Canonicalization::kSimple) + canonical(b, Canonicalization::kSimple),
            "A: X\r\nB : Y\t\r\n\tZ  \r\n");
}

TEST(CanonicalizationTest, RelaxedUnfoldsAndCollapses) {
  EXPECT_EQ(canonical("Subject:   two\t\twords \r\n  and\r\n\tmore\t", Canonicalization::kRelaxed),
            "subject:two words and more\r\n");
  EXPECT_EQ(canonical("X-Empty:", Canonicalization::kRelaxed), "x-empty:\r\n");
  EXPECT_EQ(canonical("X-Blank: \t ", Canonicalization::kRelaxed), "x-blank:\r\n");
  EXPECT_EQ(canonical("MIME-Version:1.0", Canonicalization::kRelaxed), "mime-version:1.0\r\n");
  // Only CRLF pairs are folding; a colon in the value is data.
  EXPECT_EQ(canonical("Date: Sat, 5 Dec 2026 04:24:48 +0000", Canonicalization::kRelaxed),
            "date:Sat, 5 Dec 2026 04:24:48 +0000\r\n");
}

TEST(CanonicalizationTest, Names) {
  using C = Canonicalization;
  EXPECT_EQ(canonicalizationName(C::kSimple), "simple");
  EXPECT_EQ(canonicalizationName(C::kRelaxed), "relaxed");
}

}  // namespace
}  // namespace lbmail::dkim
