// Tests for src/media/base64_lines.cc: the cache's body encoding and its strict decoder.
#include "lbmail/media/base64_lines.h"

#include <gtest/gtest.h>

#include <random>

namespace lbmail::media {
namespace {

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::string encode(const std::vector<uint8_t>& v) {
  std::string out;
  appendBase64Lines(v, out);
  return out;
}

TEST(Base64Lines, KnownVectors) {
  EXPECT_EQ(encode({}), "");
  EXPECT_EQ(encode({'M'}), "TQ==\r\n");
  EXPECT_EQ(encode({'M', 'a'}), "TWE=\r\n");
  EXPECT_EQ(encode({'M', 'a', 'n'}), "TWFu\r\n");
}

TEST(Base64Lines, LinesAre76CharactersAndRoundTripAtEverySize) {
  for (size_t n = 0; n < 400; ++n) {
    auto src = randomBytes(n, static_cast<uint32_t>(n));
    std::string enc = encode(src);
    ASSERT_EQ(enc.size(), base64LinesSize(n)) << n;
    size_t pos = 0;
    while (pos < enc.size()) {
      size_t eol = enc.find("\r\n", pos);
      ASSERT_NE(eol, std::string::npos);
      bool last = eol + 2 == enc.size();
      if (!last) {
        ASSERT_EQ(eol - pos, 76u) << n;
      }
      ASSERT_LE(eol - pos, 76u);
      pos = eol + 2;
    }
    std::string dec;
    ASSERT_EQ(decodeBase64Lines(enc, dec), nullptr) << n;
    ASSERT_EQ(dec, std::string(src.begin(), src.end())) << n;
  }
}

TEST(Base64Lines, PiecesSplitAtWholeLinesConcatenate) {
  auto src = randomBytes(kBase64LineOctets * 10 + 5, 7);
  std::string whole = encode(src), pieces;
  appendBase64Lines({src.data(), kBase64LineOctets * 3}, pieces);
  appendBase64Lines({src.data() + kBase64LineOctets * 3, src.size() - kBase64LineOctets * 3}, pieces);
  EXPECT_EQ(whole, pieces);
}

TEST(Base64Lines, DecoderRefusesAnythingButTheExactForm) {
  std::string out;
  EXPECT_NE(decodeBase64Lines("TWFu", out), nullptr);                         // no CRLF
  EXPECT_NE(decodeBase64Lines("TWFu\n", out), nullptr);                       // bare LF
  EXPECT_NE(decodeBase64Lines("TW=u\r\n", out), nullptr);                     // data after padding
  EXPECT_NE(decodeBase64Lines("TWF\r\n", out), nullptr);                      // not a multiple of 4
  EXPECT_NE(decodeBase64Lines("TQ==\r\nTWFu\r\n", out), nullptr);             // padding before the end
  EXPECT_NE(decodeBase64Lines("TW_u\r\n", out), nullptr);                     // outside the alphabet
  EXPECT_NE(decodeBase64Lines(std::string(80, 'A') + "\r\n", out), nullptr);  // too long
}

TEST(Base64, PlainFormForEncodedWords) {
  std::string out;
  appendBase64("Müller", out);
  EXPECT_EQ(out, "TcO8bGxlcg==");
}

}  // namespace
}  // namespace lbmail::media
