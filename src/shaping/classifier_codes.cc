// RFC 3463 and RFC 5321 code rules of the reply classifier (docs/shaping.md, "Classes").
#include "classifier_codes.h"

#include <charconv>

namespace lbmail::shaping {

namespace {

struct EnhancedCode {
  int klass = 0;
  int subject = 0;
  int detail = 0;
};

// Reads one number of 1 to 3 digits at in, followed by end or '.'; advances in past the dot.
std::optional<int> takeNumber(std::string_view& in, bool last) {
  if (in.empty() || in[0] < '0' || in[0] > '9') return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), value);
  size_t used = static_cast<size_t>(end - in.data());
  if (ec != std::errc() || used > 3) return std::nullopt;
  in.remove_prefix(used);
  if (last) return in.empty() ? std::optional<int>(value) : std::nullopt;
  if (in.empty() || in[0] != '.') return std::nullopt;
  in.remove_prefix(1);
  return value;
}

std::optional<EnhancedCode> parseEnhanced(std::string_view text) {
  EnhancedCode out;
  auto klass = takeNumber(text, false);
  auto subject = klass ? takeNumber(text, false) : std::nullopt;
  auto detail = subject ? takeNumber(text, true) : std::nullopt;
  if (!detail) return std::nullopt;
  out.klass = *klass;
  out.subject = *subject;
  out.detail = *detail;
  return out;
}

}  // namespace

std::optional<ReplyClass> classFromEnhancedCode(int code, std::string_view enhanced) {
  std::optional<EnhancedCode> e = parseEnhanced(enhanced);
  if (!e || (e->klass != 4 && e->klass != 5) || e->klass != code / 100) return std::nullopt;
  bool permanent = e->klass == 5;
  switch (e->subject) {
    case 1:  // addressing status (RFC 3463 section 3.2): the address itself is wrong
      return permanent ? ReplyClass::kMailbox : ReplyClass::kTransient;
    case 2:  // mailbox status: 5.2.1 disabled and 5.2.2 over quota are final; 4.2.2 is not
      if (e->detail == 1 || e->detail == 2) return permanent ? ReplyClass::kMailbox : ReplyClass::kTransient;
      return std::nullopt;
    case 3:  // mail system status: 5.3.4 message too big for the system is final
      if (e->detail == 4 && permanent) return ReplyClass::kMailbox;
      return std::nullopt;
    case 4:  // network and routing status: nothing the receiver said about the message
      return ReplyClass::kProtocol;
    case 5:  // mail delivery protocol status: 5.5.x is our dialogue, not the recipient
      return permanent ? std::optional<ReplyClass>(ReplyClass::kProtocol) : std::nullopt;
    case 7:  // security or policy status: 5.7.x refuses the sender; a 4.7.x with 450/451 is no
             // rate signal on its own (only the pattern rules make one a throttle), but a 421
             // 4.7.x closes the channel on this sender for now: what receivers do to a source
             // that sends too fast (the sink's rate limit, Yahoo's TSS04, Microsoft's 4.7.x).
      if (permanent) return ReplyClass::kBlock;
      return code == 421 ? ReplyClass::kThrottle : ReplyClass::kTransient;
    default:
      return std::nullopt;
  }
}

ReplyClass classFromBasicCode(int code) {
  switch (code) {
    case 421:  // RFC 5321 section 3.8: the server closes the channel, usually for load
      return ReplyClass::kThrottle;
    case 554:  // "transaction failed"; at connect time RFC 5321 section 3.1 "no SMTP service here"
      return ReplyClass::kBlock;
    default:
      break;
  }
  if (code >= 400 && code < 500) return ReplyClass::kTransient;
  if (code >= 500 && code < 600) return ReplyClass::kMailbox;
  return ReplyClass::kProtocol;
}

}  // namespace lbmail::shaping
