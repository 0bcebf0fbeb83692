// libFuzzer target for the EHLO reply's capabilities parser: the input is a server's EHLO reply
// on the wire (parsed by the reply parser first) or, when the first byte is odd, a reply's text
// as it is. Whatever the bytes, parsing never crashes and what it finds is consistent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lbmail/smtp/smtp_capabilities.h"
#include "lbmail/smtp/smtp_reply.h"

namespace {

using lbmail::smtp::ServerCapabilities;
using lbmail::smtp::SmtpReply;

void check(bool ok) {
  if (!ok) std::abort();
}

void checkCapabilities(const SmtpReply& reply) {
  ServerCapabilities caps = lbmail::smtp::parseCapabilities(reply);
  check(caps.esmtp);
  check(caps.size_limit == 0 || caps.size_declared);
  // The first line names the server: a reply of one line announces nothing.
  if (reply.text.find('\n') == std::string_view::npos) {
    check(!caps.pipelining && !caps.chunking && !caps.enhanced_status_codes && !caps.size_declared);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    SmtpReply reply;
    reply.code = 250;
    reply.text = std::string(input);
    checkCapabilities(reply);
    return 0;
  }
  lbmail::smtp::SmtpReplyParser parser;
  while (!input.empty()) {
    lbmail::smtp::SmtpReplyParser::Status s = parser.parse(input);
    if (s != lbmail::smtp::SmtpReplyParser::Status::kReply) break;
    checkCapabilities(parser.reply());
  }
  return 0;
}
