// libFuzzer target for the client's SMTP reply parser: a server byte stream cut into reads.
// Every reply must have a valid code and bounded text; nothing may crash or grow without bound.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lbmail/smtp/smtp_capabilities.h"
#include "lbmail/smtp/smtp_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using lbmail::smtp::SmtpReplyParser;
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  SmtpReplyParser parser;
  for (size_t off = 0; off < input.size(); off += step) {
    std::string_view in = input.substr(off, step);
    while (!in.empty()) {
      SmtpReplyParser::Status s = parser.parse(in);
      if (s == SmtpReplyParser::Status::kError) return 0;
      if (s == SmtpReplyParser::Status::kNeedMore) break;
      const lbmail::smtp::SmtpReply& r = parser.reply();
      assert(r.code >= 200 && r.code <= 599);
      assert(r.text.size() <= SmtpReplyParser::kMaxReplyLines * (SmtpReplyParser::kMaxReplyLine + 1));
      assert(r.summary(200).size() <= 200);
      lbmail::smtp::ServerCapabilities caps = lbmail::smtp::parseCapabilities(r);
      (void)caps;
      (void)r;
    }
    assert(parser.pendingBytes() <= SmtpReplyParser::kMaxReplyLine + 2);
  }
  return 0;
}
