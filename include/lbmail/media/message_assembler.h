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

struct AssemblyError {
  enum class Kind { kBadAddress, kMissingField, kBadField, kTooLong };
  Kind kind;
  std::string text;
};

// The bytes of one assembled message. Holds the material (and so its media mappings) until
// the last copy of it is gone: hand owner() to whatever writes the slices.
class AssembledMessage {
 public:
  std::span<const std::string_view> slices() const { return storage_->slices; }
  size_t size() const { return storage_->size; }
  // Octets written for this message alone; the rest are shared slices.
  size_t personalisedSize() const { return storage_->bytes.size(); }
  std::shared_ptr<const void> owner() const { return storage_; }
  // The whole message in one string: for tests and previews, never on the sending path.
  std::string flatten() const;

 private:
  friend class MessageAssembler;
  struct Storage {
    std::shared_ptr<const Material> material;
    std::string bytes;
    std::vector<std::string_view> slices;
    size_t size = 0;
  };
  explicit AssembledMessage(std::shared_ptr<Storage> s) : storage_(std::move(s)) {}

  std::shared_ptr<Storage> storage_;
};

// One per thread: it keeps scratch space and the formatted Date between messages.
class MessageAssembler {
 public:
  Expected<AssembledMessage, AssemblyError> assemble(const std::shared_ptr<const Material>& material,
                                                     const MessageRequest& request);

 private:
  struct Piece {
    const char* shared;  // null: personalised bytes at offset in the message's buffer
    size_t offset;
    size_t size;
  };

  std::optional<AssemblyError> checkRequest(const Material& m, const MessageRequest& r) const;
  void writeHeaders(const Material& m, const MessageRequest& r, std::string& out);
  std::optional<AssemblyError> writeListUnsubscribe(const Material& m, const MessageRequest& r, std::string& out);
  void writeBody(const std::vector<Material::BodySegment>& body, const MessageRequest& r, bool html, bool end_crlf,
                 std::string& out);
  void share(std::string_view bytes, std::string& out);
  void endPersonalised(const std::string& out);

  std::vector<Piece> pieces_;
  size_t personalised_from_ = 0;
  std::string scratch_;
  std::time_t date_second_ = -1;
  std::string date_header_;
};

}  // namespace lbmail::media
