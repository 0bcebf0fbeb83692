// An assembled message's slices over its own bytes and the shared material.
#include "lbmail/media/assembled_message.h"

#include <utility>

namespace lbmail::media {

AssembledMessage::AssembledMessage(std::shared_ptr<const Material> material, std::string personalised,
                                   std::span<const MessagePiece> pieces)
    : storage_(std::make_shared<Storage>()) {
  storage_->material = std::move(material);
  storage_->bytes = std::move(personalised);
  // Offsets become views only now: the buffer no longer moves.
  const std::string& bytes = storage_->bytes;
  storage_->slices.reserve(pieces.size());
  storage_->plain_lines.reserve(pieces.size());
  for (const MessagePiece& p : pieces) {
    storage_->slices.emplace_back(p.shared ? p.shared : bytes.data() + p.offset, p.size);
    storage_->plain_lines.push_back(p.plain_lines ? 1 : 0);
    storage_->size += p.size;
  }
}

std::string AssembledMessage::flatten() const {
  std::string out;
  out.reserve(size());
  for (std::string_view s : slices()) out.append(s);
  return out;
}

}  // namespace lbmail::media
