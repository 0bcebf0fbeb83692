// The streaming body hash against RFC 6376's rules written out plainly, over every split.
#include "lbmail/dkim/body_hasher.h"

#include <gtest/gtest.h>

#include <random>

#include "dkim_test_util.h"

namespace lbmail::dkim {
namespace {

using test::referenceBody;
using test::sha256;

std::array<uint8_t, 32> hashPieces(const std::vector<std::string_view>& pieces, Canonicalization c) {
  BodyHasher h(c);
  for (std::string_view p : pieces) h.update(p);
  return h.finish();
}

std::array<uint8_t, 32> hashWhole(std::string_view body, Canonicalization c) { return hashPieces({body}, c); }

const Canonicalization kBoth[] = {Canonicalization::kSimple, Canonicalization::kRelaxed};

// Bodies at the edges of the rules: trailing empty lines, WSP runs and trailing WSP, no final
// CRLF, a CR or LF alone, CRLF and WSP where pieces may split them.
const std::vector<std::string> kEdgeBodies = {
    "",
    "\r\n",
    "\r\n\r\n\r\n",
    "x",
    "x\r\n",
    "x\r\n\r\n\r\n",
    "  \t \r\n\r\n \r\n",
    " C \r\nD \t E\r\n\r\n\r\n",
    "a  b\t\tc \t\r\nd\r\n",
    "line\r\n\r\n\r\nafter gap\r\n\r\n",
    "no final crlf  ",
    "no final crlf\t",
    "cr alone\rhere\r\n",
    "ends in cr\r",
    "ends in cr after empty\r\n\r\n\r",
    "lf alone\nhere\n",
    "wsp then cr \r",
    "wsp then cr alone \rx\r\n",
    "\r\r\n\r\n",
    "\n\r\n",
    " leading space\r\n\t\tleading tabs\r\n",
    "a \r\n \r\n\t\r\nb\r\n \r\n",
};

TEST(BodyHasherTest, Rfc6376Example) {
  const std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  EXPECT_EQ(hashWhole(body, Canonicalization::kRelaxed), sha256(" C\r\nD E\r\n"));
  EXPECT_EQ(hashWhole(body, Canonicalization::kSimple), sha256(" C \r\nD \t E\r\n"));
}

// RFC 6376 3.4.3: an empty body is one CRLF for simple; 3.4.4 as corrected (errata 1384): empty
// for relaxed. Both known hashes from RFC 6376's and RFC 8463's examples' practice.
TEST(BodyHasherTest, EmptyBody) {
  EXPECT_EQ(hashWhole("", Canonicalization::kSimple), sha256("\r\n"));
  EXPECT_EQ(hashWhole("", Canonicalization::kRelaxed), sha256(""));
  EXPECT_EQ(hashWhole("\r\n\r\n", Canonicalization::kSimple), sha256("\r\n"));
  EXPECT_EQ(hashWhole(" \r\n\t\r\n", Canonicalization::kRelaxed), sha256(""));
}

TEST(BodyHasherTest, EdgeBodiesMatchTheRules) {
  for (const std::string& body : kEdgeBodies) {
    EXPECT_EQ(hashWhole(body, Canonicalization::kSimple), sha256(referenceBody(body, false))) << body;
    EXPECT_EQ(hashWhole(body, Canonicalization::kRelaxed), sha256(referenceBody(body, true))) << body;
  }
  EXPECT_EQ(hashWhole("missing crlf", Canonicalization::kRelaxed), sha256("missing crlf\r\n"));
  EXPECT_EQ(hashWhole("missing crlf", Canonicalization::kSimple), sha256("missing crlf\r\n"));
}

TEST(BodyHasherTest, SplitAtEveryByteEqualsWhole) {
  for (Canonicalization c : kBoth) {
    for (const std::string& body : kEdgeBodies) {
      std::string_view b = body;
      auto whole = hashWhole(b, c);
      for (size_t i = 0; i <= b.size(); ++i) {
        for (size_t j = i; j <= b.size(); ++j) {
          EXPECT_EQ(hashPieces({b.substr(0, i), b.substr(i, j - i), b.substr(j)}, c), whole)
              << "split " << i << "," << j << " of " << body;
        }
      }
      std::vector<std::string_view> bytes;
      for (size_t i = 0; i < b.size(); ++i) bytes.push_back(b.substr(i, 1));
      EXPECT_EQ(hashPieces(bytes, c), whole) << body;
    }
  }
}

// Random bodies of the bytes that matter, random pieces: the same digest as the plain rules.
TEST(BodyHasherTest, RandomBodiesInRandomPieces) {
  std::mt19937 rng(18);
  const char alphabet[] = {'a', 'b', ' ', ' ', '\t', '\r', '\n', '\r', '\n'};
  for (int round = 0; round < 3000; ++round) {
    std::string body(rng() % 48, 'a');
    for (char& ch : body) ch = alphabet[rng() % sizeof(alphabet)];
    std::vector<std::string_view> pieces;
    std::string_view rest = body;
    while (!rest.empty()) {
      size_t n = std::min<size_t>(rest.size(), rng() % 8);
      pieces.push_back(rest.substr(0, n));
      rest.remove_prefix(n);
    }
    EXPECT_EQ(hashPieces(pieces, Canonicalization::kSimple), sha256(referenceBody(body, false))) << body;
    EXPECT_EQ(hashPieces(pieces, Canonicalization::kRelaxed), sha256(referenceBody(body, true))) << body;
  }
}

// Plain lines between scanned pieces settle what the scan held back: a WSP run before them is
// one SP, a CR before them is content, empty lines before them are not trailing.
TEST(BodyHasherTest, PlainLinesAfterAnyPendingState) {
  const std::string plain = "QUJDREVG\r\nR0hJSktM\r\n";
  for (Canonicalization c : kBoth) {
    bool relaxed = c == Canonicalization::kRelaxed;
    for (std::string before : {"", "text\r\n", "text\r\n\r\n\r\n", "text  ", "text \t", "text\r", "text \r", "\r\n"}) {
      for (std::string after : {"", "\r\n\r\n", "tail", " \r\n"}) {
        BodyHasher h(c);
        h.update(before);
        h.updatePlainLines(plain);
        h.update(after);
        EXPECT_EQ(h.finish(), sha256(referenceBody(before + plain + after, relaxed)))
            << relaxed << " [" << before << "] [" << after << "]";
      }
    }
  }
}

// Bytes that break the plain-lines promise in a way it can see are scanned instead.
TEST(BodyHasherTest, PlainLinesOutsideThePromiseAreScanned) {
  for (Canonicalization c : kBoth) {
    for (std::string bytes : {"\r\n\r\nQUJD\r\n", "QUJD", "\nQUJD\r\n", "Q"}) {
      for (std::string before : {"x\r", "x"}) {
        BodyHasher h(c);
        h.update(before);
        h.updatePlainLines(bytes);
        EXPECT_EQ(h.finish(), sha256(referenceBody(before + bytes, c == Canonicalization::kRelaxed))) << bytes;
      }
    }
  }
}

TEST(BodyHasherTest, LongRunsOfEmptyLinesAreHeldAndReleased) {
  std::string gap(2 * 1000, '\0');
  for (size_t i = 0; i < gap.size(); i += 2) gap.replace(i, 2, "\r\n");
  for (Canonicalization c : kBoth) {
    bool relaxed = c == Canonicalization::kRelaxed;
    std::string body = "top\r\n" + gap + "bottom\r\n" + gap;
    std::vector<std::string_view> pieces;
    std::string_view b = body;
    for (size_t i = 0; i < b.size(); i += 7) pieces.push_back(b.substr(i, 7));
    EXPECT_EQ(hashPieces(pieces, c), sha256(referenceBody(body, relaxed)));
    EXPECT_EQ(hashPieces(pieces, c), sha256("top\r\n" + gap + "bottom\r\n"));
  }
}

}  // namespace
}  // namespace lbmail::dkim
