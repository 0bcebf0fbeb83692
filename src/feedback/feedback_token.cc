// Minting and checking feedback tokens: 14 bytes of fields and an 80-bit HMAC-SHA256 tag, in
// base32 (layout in feedback_token.h and docs/feedback.md#tokens).
#include "lbmail/feedback/feedback_token.h"

#include <openssl/crypto.h>

#include <array>
#include <cassert>
#include <cstdlib>

#include "base32.h"

namespace lbmail::feedback {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kSignedBytes = 14;
constexpr size_t kTagBytes = 10;
constexpr size_t kTokenBytes = kSignedBytes + kTagBytes;
static_assert(base32Chars(kTokenBytes) == kTokenChars);
using TokenBytes = std::array<uint8_t, kTokenBytes>;
using Mac = uint8_t[FeedbackKey::kMacBytes];

void putBigEndian(uint8_t* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

uint64_t getBigEndian(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// HMAC-SHA256 over the signed bytes. A failure would leave a tag anyone could compute: stop.
void sign(const FeedbackKey& key, const uint8_t* signed_bytes, Mac& mac) {
  if (!key.hmacSha256(signed_bytes, kSignedBytes, mac)) std::abort();
}

bool knownPurpose(uint8_t p) {
  return p == static_cast<uint8_t>(TokenPurpose::kBounce) || p == static_cast<uint8_t>(TokenPurpose::kUnsubscribe);
}

TokenFields fieldsOf(const TokenBytes& b) {
  TokenFields f;
  f.purpose = static_cast<TokenPurpose>(b[0] & 0x0f);
  f.campaign = static_cast<uint32_t>(getBigEndian(&b[2], 4));
  f.recipient = getBigEndian(&b[6], 5);
  f.attempt = b[11];
  f.day = static_cast<uint16_t>(getBigEndian(&b[12], 2));
  return f;
}

// Whether one of the keys with the token's id made its tag; unknown_key when none has that id.
bool signedByOneOf(std::span<const FeedbackKey> keys, const TokenBytes& b, bool& unknown_key) {
  unknown_key = true;
  bool valid = false;
  Mac mac;
  for (const FeedbackKey& key : keys) {
    if (key.id() != b[1]) continue;
    unknown_key = false;
    sign(key, b.data(), mac);
    // Constant time: a byte-by-byte compare that stops early tells a forger how many bytes match.
    if (CRYPTO_memcmp(mac, b.data() + kSignedBytes, kTagBytes) == 0) valid = true;
  }
  return valid;
}

}  // namespace

uint16_t dayOf(uint64_t unix_ms) { return static_cast<uint16_t>(unix_ms / 86'400'000); }

void appendToken(const FeedbackKey& key, const TokenFields& fields, std::string& out) {
  assert(fields.recipient <= kMaxTokenRecipient);
  TokenBytes b{};
  b[0] = static_cast<uint8_t>(kVersion << 4 | (static_cast<uint8_t>(fields.purpose) & 0x0f));
  b[1] = key.id();
  putBigEndian(&b[2], fields.campaign, 4);
  putBigEndian(&b[6], fields.recipient & kMaxTokenRecipient, 5);
  b[11] = fields.attempt;
  putBigEndian(&b[12], fields.day, 2);
  Mac mac;
  sign(key, b.data(), mac);
  std::copy(mac, mac + kTagBytes, b.begin() + kSignedBytes);
  appendBase32(b, out);
}

std::string mintToken(const FeedbackKey& key, const TokenFields& fields) {
  std::string out;
  out.reserve(kTokenChars);
  appendToken(key, fields, out);
  return out;
}

const char* tokenErrorText(TokenError e) {
  switch (e) {
    case TokenError::kMalformed: return "malformed token";
    case TokenError::kUnknownKey: return "token signed with an unknown key";
    case TokenError::kForged: return "forged token";
    case TokenError::kExpired: return "expired token";
    case TokenError::kWrongPurpose: return "token of another purpose";
  }
  return "bad token";
}

Expected<TokenFields, TokenError> verifyToken(std::span<const FeedbackKey> keys, std::string_view token,
                                              const TokenCheck& check) {
  TokenBytes b{};
  if (!decodeBase32(token, b) || (b[0] >> 4) != kVersion || !knownPurpose(b[0] & 0x0f)) {
    return unexpected(TokenError::kMalformed);
  }
  bool unknown_key = false;
  if (!signedByOneOf(keys, b, unknown_key)) return unexpected(unknown_key ? TokenError::kUnknownKey : TokenError::kForged);
  TokenFields f = fieldsOf(b);
  if (f.purpose != check.purpose) return unexpected(TokenError::kWrongPurpose);
  // A day more than one ahead of ours (a clock a little fast is fine) was never minted by us.
  if (f.day > check.today + 1) return unexpected(TokenError::kMalformed);
  if (check.max_age_days > 0 && f.day < check.today && check.today - f.day > check.max_age_days) {
    return unexpected(TokenError::kExpired);
  }
  return f;
}

}  // namespace lbmail::feedback
