// libFuzzer target for the reply classifier: arbitrary bytes as a reply (code, enhanced code,
// text of any length and content) and as MX host names, against the shipped rules file
// (configs/shaping-rules.toml). Nothing may crash, and no reply may take long: the text is cut
// to 512 octets before any pattern sees it, and the shipped patterns avoid nested repetition.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/shaping/reply_classifier.h"

#ifndef LBMAIL_SHAPING_RULES
#error "LBMAIL_SHAPING_RULES names configs/shaping-rules.toml (tests/shaping/meson.build)"
#endif

namespace {

const lbmail::shaping::ReplyClassifier& shippedRules() {
  static const lbmail::shaping::ReplyClassifier rules = [] {
    auto loaded = lbmail::shaping::ReplyClassifier::load(LBMAIL_SHAPING_RULES);
    if (!loaded) abort();  // the shipped file must load; a fuzz run without it tests nothing
    return std::move(*loaded);
  }();
  return rules;
}

constexpr std::string_view kProviders[] = {"", "gmail", "yahoo", "microsoft", "icloud", "united-internet", "none"};

}  // namespace

// Layout: 2 bytes code (0..999), 1 byte provider, then "enhanced text": the enhanced code is
// the bytes before the first space (at most 16), the text all the rest.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using lbmail::shaping::ReplyClass;
  if (size < 3) return 0;
  lbmail::smtp::SmtpReply reply;
  reply.code = (data[0] << 8 | data[1]) % 1000;
  std::string_view provider = kProviders[data[2] % std::size(kProviders)];
  std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  size_t space = rest.find(' ');
  if (space != std::string_view::npos && space <= 16) {
    reply.enhanced.assign(rest.substr(0, space));
    rest.remove_prefix(space + 1);
  }
  reply.text.assign(rest);

  const auto& rules = shippedRules();
  ReplyClass c = rules.classify(reply, provider);
  assert(static_cast<uint8_t>(c) >= 1 && static_cast<uint8_t>(c) <= lbmail::shaping::kMaxReplyClass);
  assert(reply.code < 200 || reply.code > 299 || c == ReplyClass::kDelivered);

  // The same bytes as MX host names, one per line.
  std::vector<std::string> hosts;
  for (size_t start = 0; start <= reply.text.size() && hosts.size() < 64;) {
    size_t end = reply.text.find('\n', start);
    if (end == std::string::npos) end = reply.text.size();
    hosts.emplace_back(reply.text, start, end - start);
    start = end + 1;
  }
  std::string site = rules.siteOf(hosts);
  assert(site.size() <= 255);
  (void)site;
  return 0;
}
