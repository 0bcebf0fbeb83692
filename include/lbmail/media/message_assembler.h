// Assembly of one message for one recipient: the personalised bytes (headers, merge fields in
// the text and HTML bodies) written into one small buffer, everything else handed out as slices
// of the material and of the mapped media cache. The result is ready for DATA (no line starts
// with '.') and for BDAT, and no line is longer than 998 octets.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/media/assembled_message.h"
#include "lbmail/media/material.h"

namespace lbmail::media {

constexpr size_t kMaxPersonalisedOctets = 8 << 20;  // per message: headers plus merged bodies

struct MessageRequest {
  uint64_t request_id = 0;  // also the X-Lbmail-Id header
  std::string_view recipient;
  // Values by the material's field index; nullopt when the request did not give the field.
  std::span<const std::optional<std::string_view>> fields;
  // "<left@right>", or empty for "<lbm.REQUEST_ID_HEX@FROM_DOMAIN>".
  std::string_view message_id;
  std::time_t date = 0;
};

// Every kind is permanent: the same material and fields fail the same way on every attempt and
// every gateway, so a retry cannot help.
struct AssemblyError {
  enum class Kind {
    kBadAddress,    // the recipient is not a mailbox
    kMissingField,  // a field the material needs has no value and no default
    kBadField,      // a value the message cannot carry (not UTF-8, a line break in a header)
    kTooLong,       // a header line or the personalised parts over their limits
  };
  Kind kind;
  std::string text;
};

// One per thread: it keeps scratch space and the formatted Date between messages.
class MessageAssembler {
 public:
  Expected<AssembledMessage, AssemblyError> assemble(const std::shared_ptr<const Material>& material,
                                                     const MessageRequest& request);

 private:
  std::optional<AssemblyError> checkRequest(const Material& m, const MessageRequest& r) const;
  void writeHeaders(const Material& m, const MessageRequest& r, std::string& out);
  std::optional<AssemblyError> writeListUnsubscribe(const Material& m, const MessageRequest& r, std::string& out);
  void writeBody(const std::vector<Material::BodySegment>& body, const MessageRequest& r, bool html, bool end_crlf,
                 std::string& out);
  void share(std::string_view bytes, std::string& out, bool plain_lines = false);
  void endPersonalised(const std::string& out);

  std::vector<MessagePiece> pieces_;
  size_t personalised_from_ = 0;
  std::string scratch_;
  std::string url_encoded_;  // a {{field|url}} value of a body, before quoted-printable
  std::time_t date_second_ = -1;
  std::string date_header_;
};

}  // namespace lbmail::media
