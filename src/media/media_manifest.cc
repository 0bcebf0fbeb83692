// Reading and writing the manifest; strict, since a gateway refuses a cache it cannot trust.
#include "lbmail/media/media_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "lbmail/media/content_type.h"

namespace lbmail::media {
namespace {

bool parseNumber(std::string_view s, uint64_t& out, int base = 10) {
  if (s.empty() || s.size() > 20) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string lineError(size_t line, const std::string& what) {
  return std::string(kManifestFile) + " line " + std::to_string(line) + ": " + what;
}

}  // namespace

const char* mediaNameError(std::string_view name) {
  if (name.empty()) return "empty name";
  if (name.size() > kMaxMediaNameOctets) return "name longer than 255 octets";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) return "control character or tab in name";
  }
  return nullptr;
}

std::string cacheFileName(const MediaHash& hash) { return hashToHex(hash) + ".b64"; }

std::string formatManifest(const std::vector<ManifestEntry>& entries) {
  std::string out(kManifestMagic);
  out += "\n# hash\tsource_size\tencoded_size\tencoded_xxh3_64\tcontent_type\tname\n";
  char sum[17];
  for (const ManifestEntry& e : entries) {
    auto r = std::to_chars(sum, sum + 16, e.checksum, 16);
    std::string hex(sum, r.ptr);
    out += hashToHex(e.hash) + '\t' + std::to_string(e.source_size) + '\t' + std::to_string(e.encoded_size) + '\t' +
           std::string(16 - hex.size(), '0') + hex + '\t' + e.content_type + '\t' + e.name + '\n';
  }
  return out;
}

Expected<std::vector<ManifestEntry>, std::string> parseManifest(std::string_view text) {
  if (text.size() > kMaxManifestBytes) return unexpected(std::string(kManifestFile) + ": larger than 64 MiB");
  if (!text.starts_with(kManifestMagic) ||
      (text.size() > kManifestMagic.size() && text[kManifestMagic.size()] != '\n')) {
    return unexpected(std::string(kManifestFile) + ": not an lbmail media manifest (version 1)");
  }
  std::vector<ManifestEntry> entries;
  std::map<MediaHash, size_t> first_with_hash;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) return unexpected(lineError(line_no + 1, "does not end in a line feed"));
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::string_view f[6];
    size_t start = 0;
    for (int i = 0; i < 6; ++i) {
      size_t tab = i < 5 ? line.find('\t', start) : line.size();
      if (tab == std::string_view::npos) return unexpected(lineError(line_no, "expected 6 tab-separated fields"));
      f[i] = line.substr(start, tab - start);
      start = tab + 1;
    }
    ManifestEntry e;
    auto hash = hashFromHex(f[0]);
    if (!hash) return unexpected(lineError(line_no, "hash is not 32 lowercase hex digits"));
    e.hash = *hash;
    if (!parseNumber(f[1], e.source_size)) return unexpected(lineError(line_no, "bad source size"));
    if (!parseNumber(f[2], e.encoded_size)) return unexpected(lineError(line_no, "bad encoded size"));
    if (f[3].size() != 16 || !parseNumber(f[3], e.checksum, 16)) {
      return unexpected(lineError(line_no, "bad checksum (16 hex digits)"));
    }
    if (!validContentType(f[4])) return unexpected(lineError(line_no, "bad content type"));
    if (const char* err = mediaNameError(f[5])) return unexpected(lineError(line_no, err));
    e.content_type = std::string(f[4]);
    e.name = std::string(f[5]);
    auto [it, fresh] = first_with_hash.emplace(e.hash, entries.size());
    if (!fresh) {
      const ManifestEntry& other = entries[it->second];
      if (other.source_size != e.source_size || other.encoded_size != e.encoded_size || other.checksum != e.checksum) {
        return unexpected(lineError(line_no, "same hash as an earlier line with other sizes"));
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

Expected<std::vector<ManifestEntry>, std::string> readManifest(const std::string& dir) {
  std::string path = dir + "/" + std::string(kManifestFile);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return unexpected(path + ": " + std::strerror(errno));
  std::string text;
  char block[65536];
  for (;;) {
    ssize_t n = ::read(fd, block, sizeof block);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return unexpected(path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(block, static_cast<size_t>(n));
    if (text.size() > kMaxManifestBytes) {
      ::close(fd);
      return unexpected(path + ": larger than 64 MiB");
    }
  }
  ::close(fd);
  auto entries = parseManifest(text);
  if (!entries) return unexpected(dir + "/" + entries.error());
  return entries;
}

}  // namespace lbmail::media
