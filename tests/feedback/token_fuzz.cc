// libFuzzer target for the token readers: verifyToken, verpTokenOf and unsubscribeTokenOf on
// arbitrary text, and mint/verify round trips of fields taken from the input.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/feedback/feedback_token.h"

using namespace lbmail::feedback;

namespace {

const std::vector<FeedbackKey>& keys() {
  static const std::vector<FeedbackKey>* k = new std::vector<FeedbackKey>{
      FeedbackKey::fromSecret("0123456789abcdef0123456789abcdef", 1),
      FeedbackKey::fromSecret("fedcba9876543210fedcba9876543210", 2)};
  return *k;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

void checkToken(std::string_view token) {
  TokenCheck check{TokenPurpose::kBounce, 20'000, 30};
  auto got = verifyToken(keys(), token, check);
  if (!got) return;
  // A token that verifies is one our keys minted, spelled one way only (less case).
  bool same = false;
  for (const FeedbackKey& k : keys()) same = same || mintToken(k, *got) == lower(token);
  assert(same);
  (void)same;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  checkToken(text);
  static const std::vector<std::string> domains{"bounce.example.com", "b.example.net"};
  if (auto t = verpTokenOf(text, domains)) {
    assert(t->data() >= text.data() && t->data() + t->size() <= text.data() + text.size());
    checkToken(*t);
  }
  if (auto t = unsubscribeTokenOf(text)) {
    assert(!t->empty() && t->find('/') == std::string_view::npos);
    checkToken(*t);
  }
  if (size >= 14) {  // fields from the input: mint, then verify gives them back
    TokenFields f;
    f.purpose = (data[0] & 1) ? TokenPurpose::kBounce : TokenPurpose::kUnsubscribe;
    std::memcpy(&f.campaign, data + 1, 4);
    std::memcpy(&f.recipient, data + 5, 5);
    f.recipient &= kMaxTokenRecipient;
    f.attempt = data[10];
    std::memcpy(&f.day, data + 11, 2);
    const FeedbackKey& key = keys()[data[13] & 1];
    auto got = verifyToken(keys(), mintToken(key, f), TokenCheck{f.purpose, f.day, 0});
    assert(got && *got == f);
    (void)got;
  }
  return 0;
}
