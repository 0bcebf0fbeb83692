// XXH3-128 content addresses and XXH3-64 checksums for the media cache.
#include "lbmail/media/media_hash.h"

#include <xxhash.h>

namespace lbmail::media {
namespace {

MediaHash fromCanonical(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  MediaHash out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = c.digest[i];
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not the canonical form, so it is not accepted either
}

}  // namespace

MediaHasher::MediaHasher() : state_(XXH3_createState()) { XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_)); }

MediaHasher::~MediaHasher() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void MediaHasher::update(const void* data, size_t n) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), data, n);
}

MediaHash MediaHasher::digest() const { return fromCanonical(XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_))); }

MediaHash hashMedia(std::span<const uint8_t> bytes) { return fromCanonical(XXH3_128bits(bytes.data(), bytes.size())); }

std::string hashToHex(const MediaHash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(h.size() * 2, '0');
  for (size_t i = 0; i < h.size(); ++i) {
    out[2 * i] = kDigits[h[i] >> 4];
    out[2 * i + 1] = kDigits[h[i] & 15];
  }
  return out;
}

std::optional<MediaHash> hashFromHex(std::string_view hex) {
  MediaHash h;
  if (hex.size() != h.size() * 2) return std::nullopt;
  for (size_t i = 0; i < h.size(); ++i) {
    int hi = hexValue(hex[2 * i]);
    int lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return h;
}

uint64_t contentChecksum(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

}  // namespace lbmail::media
