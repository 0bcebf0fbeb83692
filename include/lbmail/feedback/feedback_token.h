// Feedback tokens: what names a campaign's recipient in a VERP return path
// (<local>+<token>@<bounce domain>) and in a one-click unsubscribe URL, unforgeably. A token is
// 24 bytes, written as 39 characters of lowercase base32 (RFC 4648 alphabet, no padding), so it
// survives relays that fold the case of local parts:
//   version and purpose (1) | key id (1) | campaign (4) | recipient (5) | attempt (1) | day (2)
//   | HMAC-SHA256 over the 14 bytes before it, first 10 bytes (80 bits)
// Layout and rules: docs/feedback.md#tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "lbmail/feedback/feedback_key.h"

namespace lbmail::feedback {

constexpr size_t kTokenChars = 39;
constexpr uint64_t kMaxTokenRecipient = (uint64_t{1} << 40) - 1;

// What a token may be used for; a token of one purpose is refused for the other (a bounce
// token cannot unsubscribe, and an unsubscribe link cannot bounce).
enum class TokenPurpose : uint8_t { kBounce = 1, kUnsubscribe = 2 };

struct TokenFields {
  TokenPurpose purpose = TokenPurpose::kBounce;
  uint32_t campaign = 0;   // the campaign's number in the initiator's campaigns table
  uint64_t recipient = 0;  // the recipient's id, at most kMaxTokenRecipient
  uint8_t attempt = 0;     // the attempt (saturates at 255); 0 in unsubscribe links
  uint16_t day = 0;        // days since 1970-01-01 UTC when it was minted (dayOf)

  bool operator==(const TokenFields&) const = default;
};

// Days since 1970-01-01 UTC of a Unix time in milliseconds.
uint16_t dayOf(uint64_t unix_ms);

// Appends the token (kTokenChars characters) to out; nothing else is allocated by lbmail
// (OpenSSL's one-shot HMAC may allocate inside). fields.recipient must be at most
// kMaxTokenRecipient.
void appendToken(const FeedbackKey& key, const TokenFields& fields, std::string& out);
std::string mintToken(const FeedbackKey& key, const TokenFields& fields);

enum class TokenError {
  kMalformed,     // not 39 base32 characters, or an unknown version
  kUnknownKey,    // signed with a key id none of the keys has
  kForged,        // the HMAC does not match: made up or altered
  kExpired,       // older than max_age_days
  kWrongPurpose,  // a valid token of the other purpose
};
const char* tokenErrorText(TokenError e);

struct TokenCheck {
  TokenPurpose purpose = TokenPurpose::kBounce;
  uint16_t today = 0;         // dayOf(now)
  uint16_t max_age_days = 0;  // 0: never expires
};

// Checks a token (either case) against every key whose id it names, in constant time for the
// tag (CRYPTO_memcmp). In order: not 39 base32 characters, unused low bits of the last one not
// zero (so a token has one spelling less case: key replay checks by its fields or its
// lowercase text), another version or an unknown purpose -> kMalformed; no key with its id ->
// kUnknownKey; tag wrong -> kForged; other purpose -> kWrongPurpose; day more than one after
// check.today -> kMalformed; today - day > max_age_days (when not 0) -> kExpired.
Expected<TokenFields, TokenError> verifyToken(std::span<const FeedbackKey> keys, std::string_view token,
                                              const TokenCheck& check);

// "local+token@domain".
void appendVerpAddress(std::string_view local, std::string_view token, std::string_view domain, std::string& out);
// The token part of a VERP address whose domain is one of domains (case-insensitive) and whose
// local part is "<anything>+<token>": what follows the last '+' in the local part. Angle
// brackets around the address are allowed. nullopt for any other address.
std::optional<std::string_view> verpTokenOf(std::string_view address, std::span<const std::string> domains);

// base + "/" + token; base is an absolute URL without a trailing slash
// ("https://unsubscribe.example.com/u").
std::string unsubscribeUrl(std::string_view base, std::string_view token);
// The token of an unsubscribe URL or request path: the last path segment, with any query or
// fragment removed. nullopt when that segment is empty.
std::optional<std::string_view> unsubscribeTokenOf(std::string_view url_or_path);

}  // namespace lbmail::feedback
