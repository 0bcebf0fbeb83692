// The media cache's manifest (manifest.tsv): one line per source file name, tab-separated:
// hash, source size, encoded size, XXH3-64 of the encoded file, content type, name. Lines that
// start with '#' are comments; the first line names the format and its version.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/media/media_hash.h"

namespace lbmail::media {

constexpr std::string_view kManifestFile = "manifest.tsv";
constexpr std::string_view kManifestMagic = "# lbmail media manifest 1";
constexpr size_t kMaxManifestBytes = 64 << 20;
constexpr size_t kMaxMediaNameOctets = 255;

struct ManifestEntry {
  MediaHash hash{};
  uint64_t source_size = 0;
  uint64_t encoded_size = 0;
  uint64_t checksum = 0;  // XXH3-64 of the encoded file
  std::string content_type;
  std::string name;  // the source file's path relative to the source directory
};

// Null when name may be stored: 1 to 255 octets, no control characters, no tab.
const char* mediaNameError(std::string_view name);

// The cache file holding the encoded form of hash: "<32 hex digits>.b64".
std::string cacheFileName(const MediaHash& hash);

std::string formatManifest(const std::vector<ManifestEntry>& entries);

// Errors name the line and the field. Two lines with one hash must agree on its sizes.
Expected<std::vector<ManifestEntry>, std::string> parseManifest(std::string_view text);

// Reads and parses dir's manifest (at most kMaxManifestBytes); errors start with the path.
Expected<std::vector<ManifestEntry>, std::string> readManifest(const std::string& dir);

}  // namespace lbmail::media
