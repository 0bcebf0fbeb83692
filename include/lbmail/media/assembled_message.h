// The bytes of one assembled message: its own personalised octets and slices of the shared
// material, in order, kept alive together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/media/material.h"

namespace lbmail::media {

// One run of a message's bytes: a slice of the shared material, or a range of the message's
// own personalised bytes.
struct MessagePiece {
  const char* shared;  // null: personalised bytes at offset
  size_t offset;
  size_t size;
  bool plain_lines;  // a slice of Material::Step::plain_lines bytes
};

// Holds the material (and so its media mappings) until the last copy of it is gone: hand
// owner() to whatever writes the slices.
class AssembledMessage {
 public:
  // Keeps personalised and material, and lays pieces over them in order.
  AssembledMessage(std::shared_ptr<const Material> material, std::string personalised,
                   std::span<const MessagePiece> pieces);

  std::span<const std::string_view> slices() const { return storage_->slices; }
  // Parallel to slices(): 1 where the slice is plain lines (Material::Step::plain_lines), for
  // dkim::MessageBytes.
  std::span<const uint8_t> plainLines() const { return storage_->plain_lines; }
  size_t size() const { return storage_->size; }
  // Octets written for this message alone; the rest are shared slices.
  size_t personalisedSize() const { return storage_->bytes.size(); }
  std::shared_ptr<const void> owner() const { return storage_; }
  // The whole message in one string: for tests and previews, never on the sending path.
  std::string flatten() const;

 private:
  struct Storage {
    std::shared_ptr<const Material> material;
    std::string bytes;
    std::vector<std::string_view> slices;
    std::vector<uint8_t> plain_lines;
    size_t size = 0;
  };

  std::shared_ptr<Storage> storage_;
};

}  // namespace lbmail::media
