// The content address of a media file: XXH3-128 of its original bytes, the key the link's
// CATALOG and MATERIAL frames carry and the name of its file in the cache.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lbmail::media {

using MediaHash = std::array<uint8_t, 16>;

// Hashes bytes incrementally, for files read in blocks.
class MediaHasher {
 public:
  MediaHasher();
  ~MediaHasher();
  MediaHasher(const MediaHasher&) = delete;
  MediaHasher& operator=(const MediaHasher&) = delete;

  void update(const void* data, size_t n);
  MediaHash digest() const;

 private:
  void* state_;  // XXH3_state_t, kept out of this header
};

MediaHash hashMedia(std::span<const uint8_t> bytes);

// 32 lowercase hex digits, the canonical (big-endian) form of XXH3-128.
std::string hashToHex(const MediaHash& h);
std::optional<MediaHash> hashFromHex(std::string_view hex);

// XXH3-64 of bytes, the integrity check of a cache file's encoded contents.
uint64_t contentChecksum(std::string_view bytes);

}  // namespace lbmail::media
