// Telling TLS from older plaintext links by their first bytes.
#include "lbmail/proto/link_opening.h"

#include "lbmail/proto/frame_codec.h"

namespace lbmail::proto {
namespace {

// Every TLS connection opens with a handshake record (RFC 8446 section 5.1: content type 22);
// a refusal may come as an alert (21).
constexpr uint8_t kTlsHandshakeRecord = 22;
constexpr uint8_t kTlsAlertRecord = 21;

}  // namespace

LinkOpening classifyOpening(std::span<const uint8_t> first, Role receiver) {
  LinkOpening o;
  if (first.empty()) return o;
  if (first[0] == kTlsHandshakeRecord || (receiver == Role::kInitiator && first[0] == kTlsAlertRecord)) {
    o.kind = LinkOpening::Kind::kTls;
  } else if (first.size() >= 3 && first[0] == kMagic0 && first[1] == kMagic1 && first[2] < kProtocolVersion) {
    o.kind = LinkOpening::Kind::kOldLink;
    o.old_version = first[2];
  }
  return o;
}

void encodeOldLinkGoodbye(BufferList& out, uint8_t version) {
  BufferList bye;
  encodeFrame(bye, GoodbyeFrame{GoodbyeReason::kProtocolError,
                                "link version 3 needs TLS 1.3: this initiator speaks an older plaintext link"});
  bye.uvBufs()[0].base[2] = static_cast<char>(version);  // the header's version byte
  bye.moveTo(out);
}

}  // namespace lbmail::proto
