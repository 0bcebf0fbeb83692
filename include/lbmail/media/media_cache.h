// The gateway's view of the media cache: every file of the manifest mapped read-only and its
// checksum verified before anything is served from it. Only the cache's own immutable files
// are mapped, never a source file, so a source truncated later cannot cause SIGBUS.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/media/mapped_file.h"
#include "lbmail/media/media_hash.h"

namespace lbmail::media {

struct MediaEntry {
  MediaHash hash{};
  std::string name;          // the first source name with this content
  std::string content_type;  // from that name's extension
  uint64_t source_size = 0;
  std::shared_ptr<const MappedFile> file;

  // The MIME body form: base64 lines ending in CRLF.
  std::string_view encoded() const { return file->bytes(); }
};

class MediaCache {
 public:
  MediaCache() = default;

  // Reads the manifest in dir and maps each file it lists; any missing, resized or damaged
  // file fails the whole load, naming the file. Blocking: at start-up or on the thread pool.
  static Expected<MediaCache, std::string> open(const std::string& dir);

  const MediaEntry* find(const MediaHash& hash) const;
  // The hashes held, sorted: what the link's CATALOG frame carries.
  std::vector<MediaHash> catalog() const;
  size_t size() const { return entries_.size(); }
  uint64_t mappedBytes() const { return mapped_bytes_; }

 private:
  std::map<MediaHash, MediaEntry> entries_;
  uint64_t mapped_bytes_ = 0;
};

}  // namespace lbmail::media
