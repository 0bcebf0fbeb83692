// libFuzzer target for the receiving SMTP state machine: a client byte stream cut into reads;
// every reply must be a well-formed SMTP reply, and nothing may crash or grow without bound.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "lbmail/smtp/smtp_server_protocol.h"

namespace {

using namespace lbmail::smtp;

class FuzzPolicy : public SmtpServerProtocol::Policy {
 public:
  using Decision = SmtpServerProtocol::Decision;
  Decision onRecipient(std::string_view address) override {
    return address.size() % 3 == 0 ? Decision{450, "4.2.1", "later"} : Decision{250, "2.1.5", "Ok"};
  }
  Decision onMessage(const ReceivedMessage& m) override {
    assert(m.recipients && !m.recipients->empty());
    return {250, "2.0.0", "Ok"};
  }
  bool keepBodies() const override { return true; }
};

void checkReply(const ServerReply& r) {
  assert(r.code >= 200 && r.code <= 599);
  assert(r.text.size() >= 6 && r.text.compare(r.text.size() - 2, 2, "\r\n") == 0);
  (void)r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = 1 + data[0] % 128;  // how the stream is cut into reads
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  FuzzPolicy policy;
  SmtpServerProtocol::Limits limits;
  limits.max_message_size = 4096;
  limits.max_recipients = 8;
  SmtpServerProtocol protocol("fuzz.test", limits, policy);
  protocol.offerStartTls(true);
  std::vector<ServerReply> replies;
  for (size_t off = 0; off < input.size() && !protocol.closed(); off += step) {
    // A STARTTLS answered 220 is followed, one read later, by a completed handshake.
    if (protocol.awaitingTls()) protocol.tlsEstablished();
    protocol.feed(input.substr(off, step), replies);
    for (const ServerReply& r : replies) checkReply(r);
    replies.clear();
  }
  return 0;
}
