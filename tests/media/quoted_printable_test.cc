// Tests for src/media/quoted_printable.cc: line limits, dot safety and round trips, including
// text written in pieces and pre-encoded literals placed at any column.
#include "lbmail/media/quoted_printable.h"

#include <gtest/gtest.h>

#include <random>

namespace lbmail::media {
namespace {

// RFC 2045 decoding, with hard line breaks as "\n".
std::string decode(const std::string& qp) {
  std::string out;
  for (size_t i = 0; i < qp.size(); ++i) {
    if (qp.compare(i, 3, "=\r\n") == 0) {
      i += 2;
    } else if (qp[i] == '=') {
      out.push_back(static_cast<char>(std::stoi(qp.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (qp.compare(i, 2, "\r\n") == 0) {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(qp[i]);
    }
  }
  return out;
}

std::string normalise(std::string s) {
  for (size_t p = s.find("\r\n"); p != std::string::npos; p = s.find("\r\n", p)) s.erase(p, 1);
  return s;
}

// Every line at most 76 characters, none starting with '.', no blank before a line end, no bare
// CR or LF, nothing but printable ASCII.
void expectWellFormed(const std::string& qp) {
  size_t pos = 0;
  while (pos <= qp.size()) {
    size_t eol = qp.find("\r\n", pos);
    std::string line = qp.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    ASSERT_LE(line.size(), 76u) << line;
    if (!line.empty()) {
      ASSERT_NE(line.front(), '.') << line;
      ASSERT_NE(line.back(), ' ') << line;
      ASSERT_NE(line.back(), '\t') << line;
    }
    for (char c : line) ASSERT_TRUE(c == '\t' || (c >= 32 && c < 127)) << static_cast<int>(c);
    if (eol == std::string::npos) break;
    pos = eol + 2;
  }
}

std::string encode(std::string_view text, bool html = false) {
  std::string out;
  QuotedPrintableWriter(out).write(text, html);
  return out;
}

TEST(QuotedPrintable, PlainTextPassesThrough) {
  EXPECT_EQ(encode("Hello, world"), "Hello, world");
  EXPECT_EQ(encode("line one\nline two\r\n"), "line one\r\nline two\r\n");
}

TEST(QuotedPrintable, EscapesWhatMustBeEscaped) {
  EXPECT_EQ(encode("a=b"), "a=3Db");
  EXPECT_EQ(encode("caf\xC3\xA9"), "caf=C3=A9");
  EXPECT_EQ(encode("tail \nx"), "tail=20\r\nx");
  EXPECT_EQ(encode("end\t"), "end=09");
  EXPECT_EQ(encode("a\rb"), "a=0Db");
  EXPECT_EQ(encode(std::string_view("\0", 1)), "=00");
}

TEST(QuotedPrintable, NoLineStartsWithADot) {
  EXPECT_EQ(encode(".\n.hidden\nmid.dle"), "=2E\r\n=2Ehidden\r\nmid.dle");
  // A dot that a soft break would put at the start of a line is escaped too.
  std::string text = std::string(75, 'x') + "." + std::string(10, 'y');
  std::string qp = encode(text);
  expectWellFormed(qp);
  EXPECT_EQ(decode(qp), text);
}

TEST(QuotedPrintable, LongLinesGetSoftBreaks) {
  std::string text(1000, 'a');
  std::string qp = encode(text);
  expectWellFormed(qp);
  EXPECT_EQ(decode(qp), text);
}

TEST(QuotedPrintable, HtmlEscapingOfValues) {
  EXPECT_EQ(encode("<b>Tom & \"Jerry\"'s</b>", true), "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt;");
}

TEST(QuotedPrintable, RandomTextWrittenInTwoPiecesAtEverySplit) {
  std::mt19937 rng(42);
  const std::string alphabet = std::string("ab .=\t\n\xC3\xA9<&") + std::string(1, '\0');
  for (int round = 0; round < 30; ++round) {
    std::string text;
    size_t n = 20 + rng() % 200;
    for (size_t i = 0; i < n; ++i) text.push_back(alphabet[rng() % alphabet.size()]);
    for (size_t split = 0; split <= text.size(); ++split) {
      std::string out;
      QuotedPrintableWriter w(out);
      w.write(std::string_view(text).substr(0, split));
      w.write(std::string_view(text).substr(split));
      expectWellFormed(out);
      ASSERT_EQ(decode(out), normalise(text)) << "split " << split;
    }
  }
}

TEST(QuotedPrintable, PreEncodedLiteralsFitAtAnyColumn) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string value(rng() % 120, 'v');
    std::string literal_text;
    size_t n = rng() % 300;
    for (size_t i = 0; i < n; ++i) literal_text.push_back(".x \n=\xC3\xA9"[rng() % 7]);
    EncodedLiteral lit = encodeLiteral(literal_text);
    std::string out;
    QuotedPrintableWriter w(out);
    w.write(value);
    w.placeEncoded(lit);
    out += lit.text;
    w.write(value);
    expectWellFormed(out);
    ASSERT_EQ(decode(out), normalise(value + literal_text + value)) << round;
  }
}

}  // namespace
}  // namespace lbmail::media
