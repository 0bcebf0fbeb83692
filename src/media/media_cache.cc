// Loading the cache: manifest, mappings, checksums.
#include "lbmail/media/media_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lbmail/media/media_manifest.h"

namespace lbmail::media {

Expected<MediaCache, std::string> MediaCache::open(const std::string& dir) {
  auto manifest = readManifest(dir);
  if (!manifest) return unexpected("media cache " + manifest.error());
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return unexpected("media cache " + dir + ": " + std::strerror(errno));
  auto fail = [&](const std::string& what) {
    ::close(dir_fd);
    return unexpected("media cache " + dir + ": " + what);
  };

  MediaCache cache;
  for (ManifestEntry& e : *manifest) {
    if (cache.entries_.count(e.hash)) continue;  // another name for content already mapped
    std::string file_name = cacheFileName(e.hash);
    auto file = MappedFile::open(dir_fd, file_name, e.encoded_size);
    if (!file) return fail(file.error() + " (" + e.name + ")");
    if (contentChecksum((*file)->bytes()) != e.checksum) {
      return fail(file_name + " (" + e.name + "): checksum mismatch, the file is damaged; run 'lbmail media verify'");
    }
    cache.mapped_bytes_ += e.encoded_size;
    cache.entries_.emplace(
        e.hash, MediaEntry{e.hash, std::move(e.name), std::move(e.content_type), e.source_size, std::move(*file)});
  }
  ::close(dir_fd);
  return cache;
}

const MediaEntry* MediaCache::find(const MediaHash& hash) const {
  auto it = entries_.find(hash);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<MediaHash> MediaCache::catalog() const {
  std::vector<MediaHash> out;
  out.reserve(entries_.size());
  for (const auto& [hash, entry] : entries_) out.push_back(hash);
  return out;
}

}  // namespace lbmail::media
