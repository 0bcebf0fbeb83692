// Tests for feedback tokens: layout, round trips, and every way a token is refused.
#include "lbmail/feedback/feedback_token.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail::feedback {
namespace {

const FeedbackKey kKey = FeedbackKey::fromSecret("0123456789abcdef0123456789abcdef", 1);
const FeedbackKey kOtherKey = FeedbackKey::fromSecret("fedcba9876543210fedcba9876543210", 1);
const FeedbackKey kKey2 = FeedbackKey::fromSecret("a second secret of thirty-two by", 2);
constexpr uint16_t kToday = 20'000;

TokenFields bounceFields() {
  TokenFields f;
  f.purpose = TokenPurpose::kBounce;
  f.campaign = 0xdeadbeef;
  f.recipient = kMaxTokenRecipient;
  f.attempt = 255;
  f.day = kToday;
  return f;
}

TokenCheck checkFor(TokenPurpose purpose, uint16_t max_age = 30) { return TokenCheck{purpose, kToday, max_age}; }

Expected<TokenFields, TokenError> verify(std::string_view token, const TokenCheck& check) {
  std::vector<FeedbackKey> keys{kKey};
  return verifyToken(keys, token, check);
}

TEST(FeedbackToken, MintsThirtyNineLowercaseBase32Characters) {
  std::string t = mintToken(kKey, bounceFields());
  ASSERT_EQ(t.size(), kTokenChars);
  for (char c : t) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << t;
  // Version 1 and purpose 1 make the first byte 0x11: "ce" in base32 (00010 00100 ...).
  EXPECT_EQ(t.substr(0, 2), "ce");
  EXPECT_EQ(t, mintToken(kKey, bounceFields()));  // deterministic
}

TEST(FeedbackToken, AppendTokenAppendsToWhatIsThere) {
  std::string out = "bounce+";
  appendToken(kKey, bounceFields(), out);
  EXPECT_EQ(out, "bounce+" + mintToken(kKey, bounceFields()));
}

TEST(FeedbackToken, RoundTripsEveryField) {
  struct Case {
    TokenPurpose purpose;
    uint32_t campaign;
    uint64_t recipient;
    uint8_t attempt;
    uint16_t day;
  };
  for (const Case& c : std::vector<Case>{{TokenPurpose::kBounce, 0, 0, 0, kToday},
                                         {TokenPurpose::kBounce, 1, 1, 1, kToday - 1},
                                         {TokenPurpose::kUnsubscribe, 0xffffffff, kMaxTokenRecipient, 0, kToday + 1},
                                         {TokenPurpose::kUnsubscribe, 42, 123456789012, 0, kToday - 30}}) {
    TokenFields f{c.purpose, c.campaign, c.recipient, c.attempt, c.day};
    auto got = verify(mintToken(kKey, f), checkFor(c.purpose));
    ASSERT_TRUE(got) << tokenErrorText(got.error());
    EXPECT_EQ(*got, f);
  }
}

TEST(FeedbackToken, AcceptsEitherCase) {
  std::string t = mintToken(kKey, bounceFields());
  std::string upper = t;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string mixed = t;
  for (size_t i = 0; i < mixed.size(); i += 2) mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
  EXPECT_TRUE(verify(upper, checkFor(TokenPurpose::kBounce)));
  EXPECT_TRUE(verify(mixed, checkFor(TokenPurpose::kBounce)));
}

TEST(FeedbackToken, RefusesEachKindOfBadToken) {
  std::string good = mintToken(kKey, bounceFields());
  TokenFields old = bounceFields();
  old.day = kToday - 31;
  TokenFields future = bounceFields();
  future.day = kToday + 2;
  std::string v2 = good;
  v2[0] = 'e';  // first 5 bits 00100: version 2
  struct Case {
    const char* what;
    std::string token;
    TokenCheck check;
    TokenError error;
  };
  std::vector<Case> cases = {
      {"empty", "", checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"short", good.substr(1), checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"long", good + "a", checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"outside the alphabet", good.substr(0, 38) + "1", checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"padding", good.substr(0, 38) + "=", checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"another version", v2, checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"unknown key", mintToken(kKey2, bounceFields()), checkFor(TokenPurpose::kBounce), TokenError::kUnknownKey},
      {"another secret", mintToken(kOtherKey, bounceFields()), checkFor(TokenPurpose::kBounce), TokenError::kForged},
      {"expired", mintToken(kKey, old), checkFor(TokenPurpose::kBounce), TokenError::kExpired},
      {"from the future", mintToken(kKey, future), checkFor(TokenPurpose::kBounce), TokenError::kMalformed},
      {"wrong purpose", good, checkFor(TokenPurpose::kUnsubscribe), TokenError::kWrongPurpose},
  };
  for (const Case& c : cases) {
    auto got = verify(c.token, c.check);
    ASSERT_FALSE(got) << c.what;
    EXPECT_EQ(got.error(), c.error) << c.what << ": " << tokenErrorText(got.error());
  }
}

TEST(FeedbackToken, AgeLimitsAtItsEdgeAndZeroMeansNever) {
  TokenFields f = bounceFields();
  f.day = kToday - 30;
  EXPECT_TRUE(verify(mintToken(kKey, f), checkFor(TokenPurpose::kBounce, 30)));
  EXPECT_FALSE(verify(mintToken(kKey, f), checkFor(TokenPurpose::kBounce, 29)));
  f.day = 1;
  EXPECT_TRUE(verify(mintToken(kKey, f), checkFor(TokenPurpose::kBounce, 0)));
}

TEST(FeedbackToken, ChangingAnyOneCharacterRefusesIt) {
  std::string good = mintToken(kKey, bounceFields());
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  for (size_t i = 0; i < good.size(); ++i) {
    for (char c : alphabet) {
      if (c == good[i]) continue;
      std::string t = good;
      t[i] = c;
      auto got = verify(t, checkFor(TokenPurpose::kBounce, 0));
      ASSERT_FALSE(got) << "position " << i << " as " << c;
      TokenError e = got.error();
      // The key id byte changes the key looked up; the rest breaks the tag or the syntax.
      EXPECT_TRUE(e == TokenError::kForged || e == TokenError::kMalformed || e == TokenError::kUnknownKey)
          << i << " " << tokenErrorText(e);
    }
  }
}

TEST(FeedbackToken, ChecksEveryKeyWithTheTokensId) {
  std::vector<FeedbackKey> keys{kOtherKey, kKey2, kKey};  // two with id 1, one right
  auto got = verifyToken(keys, mintToken(kKey, bounceFields()), checkFor(TokenPurpose::kBounce));
  EXPECT_TRUE(got);
  got = verifyToken(keys, mintToken(kKey2, bounceFields()), checkFor(TokenPurpose::kBounce));
  EXPECT_TRUE(got);
}

TEST(FeedbackToken, DayOfCountsUtcDays) {
  EXPECT_EQ(dayOf(0), 0);
  EXPECT_EQ(dayOf(86'400'000 - 1), 0);
  EXPECT_EQ(dayOf(86'400'000), 1);
  EXPECT_EQ(dayOf(1'764'892'800'000), 20'427);  // 2025-12-05T00:00:00Z
}

TEST(FeedbackToken, ErrorTextsDiffer) {
  std::vector<std::string> texts;
  for (TokenError e : {TokenError::kMalformed, TokenError::kUnknownKey, TokenError::kForged, TokenError::kExpired,
                       TokenError::kWrongPurpose}) {
    texts.push_back(tokenErrorText(e));
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    for (size_t j = i + 1; j < texts.size(); ++j) EXPECT_NE(texts[i], texts[j]);
  }
}

}  // namespace
}  // namespace lbmail::feedback
