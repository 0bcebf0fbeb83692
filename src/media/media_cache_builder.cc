// Building and verifying the media cache (command-line work, blocking I/O by design).
#include "lbmail/media/media_cache_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "lbmail/media/base64_lines.h"
#include "lbmail/media/content_type.h"
#include "lbmail/media/mapped_file.h"
#include "lbmail/media/media_hash.h"

namespace lbmail::media {
namespace fs = std::filesystem;
namespace {

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// A temporary file in dir, given its final name only when complete: fsynced, then renamed, so
// the final name holds all of the bytes or does not exist. Removed if never committed.
class StagedFile {
 public:
  explicit StagedFile(std::string dir) : dir_(std::move(dir)) {
    static unsigned serial = 0;
    temp_ = dir_ + "/.staging-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  }
  ~StagedFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
  }
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return temp_; }

  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  bool commit(const std::string& name) {
    bool synced = ::fsync(fd_) == 0;
    bool closed = ::close(fd_) == 0;  // closed either way: never closed twice
    fd_ = -1;
    if (!synced || !closed) return false;
    if (::rename(temp_.c_str(), (dir_ + "/" + name).c_str()) != 0) return false;
    committed_ = true;
    return true;
  }

 private:
  std::string dir_;
  std::string temp_;
  int fd_ = -1;
  bool committed_ = false;
};

bool syncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Maps the cache file for e when it exists at the size e says.
Expected<std::shared_ptr<const MappedFile>, std::string> mapCacheFile(const std::string& cache_dir,
                                                                      const ManifestEntry& e) {
  int dir_fd = ::open(cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return unexpected(errnoText(cache_dir));
  auto file = MappedFile::open(dir_fd, cacheFileName(e.hash), e.encoded_size);
  ::close(dir_fd);
  return file;
}

class Checksum {
 public:
  Checksum() : s_(XXH3_createState()) { XXH3_64bits_reset(s_); }
  ~Checksum() { XXH3_freeState(s_); }
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;
  void update(std::string_view b) { XXH3_64bits_update(s_, b.data(), b.size()); }
  uint64_t digest() const { return XXH3_64bits_digest(s_); }

 private:
  XXH3_state_t* s_;
};

// Reads up to buf.size() octets, short only at the end of the file.
ssize_t readFull(int fd, std::vector<uint8_t>& buf) {
  size_t filled = 0;
  while (filled < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + filled, buf.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(filled);
}

// Encodes one source file, in blocks of whole base64 lines, into a staged file; names it by
// its hash unless the cache holds it already. Returns whether a file was written.
Expected<bool, std::string> encodeOne(const fs::path& source, const std::string& cache_dir, ManifestEntry& entry) {
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return unexpected(errnoText(source.string()));
  StagedFile staged(cache_dir);
  if (!staged.ok()) {
    ::close(in);
    return unexpected(errnoText(staged.path()));
  }
  MediaHasher hasher;
  Checksum checksum;
  std::vector<uint8_t> block(kBase64LineOctets * 4096);
  std::string encoded;
  for (;;) {
    ssize_t n = readFull(in, block);
    if (n < 0) {
      std::string err = errnoText(source.string());
      ::close(in);
      return unexpected(err);
    }
    if (n == 0) break;
    hasher.update(block.data(), static_cast<size_t>(n));
    entry.source_size += static_cast<uint64_t>(n);
    encoded.clear();
    appendBase64Lines({block.data(), static_cast<size_t>(n)}, encoded);
    checksum.update(encoded);
    entry.encoded_size += encoded.size();
    if (!staged.write(encoded)) {
      std::string err = errnoText(staged.path());
      ::close(in);
      return unexpected(err);
    }
    if (static_cast<size_t>(n) < block.size()) break;
  }
  ::close(in);
  entry.hash = hasher.digest();
  entry.checksum = checksum.digest();
  auto existing = mapCacheFile(cache_dir, entry);
  if (existing && contentChecksum((*existing)->bytes()) == entry.checksum) return false;
  // Renaming over a damaged or stale file is safe for a gateway that maps it: its mapping keeps
  // the old inode.
  if (!staged.commit(cacheFileName(entry.hash))) return unexpected(errnoText(staged.path()));
  return true;
}

// Regular files under dir, relative names sorted, hidden names (".x") skipped.
Expected<std::vector<std::string>, std::string> listSources(const std::string& dir) {
  std::error_code walk;  // a folder that cannot be read fails the build: no file is left out silently
  std::vector<std::string> names;
  fs::recursive_directory_iterator it(dir, walk), end;
  for (; !walk && it != end; it.increment(walk)) {
    std::error_code ec;
    std::string base = it->path().filename().string();
    if (!base.empty() && base.front() == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    names.push_back(it->path().lexically_relative(dir).string());
  }
  if (walk) return unexpected(dir + ": " + walk.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Expected<BuildReport, std::string> buildMediaCache(const std::string& src_dir, const std::string& cache_dir) {
  std::error_code ec;
  // A cache inside the sources would be read back as sources by the next build.
  fs::path src = fs::weakly_canonical(src_dir, ec);
  if (ec) return unexpected(src_dir + ": " + ec.message());
  fs::path cache = fs::weakly_canonical(cache_dir, ec);
  if (ec) return unexpected(cache_dir + ": " + ec.message());
  if (src.filename().empty()) src = src.parent_path();  // "dir/" ends in an empty element
  if (std::mismatch(src.begin(), src.end(), cache.begin(), cache.end()).first == src.end()) {
    return unexpected(std::string("the cache must not be the source directory or inside it"));
  }
  auto names = listSources(src_dir);
  if (!names) return unexpected(names.error());
  fs::create_directories(cache_dir, ec);
  if (ec) return unexpected(cache_dir + ": " + ec.message());

  BuildReport report;
  for (const std::string& name : *names) {
    if (const char* err = mediaNameError(name)) return unexpected(src_dir + "/" + name + ": " + err);
    ManifestEntry e;
    e.name = name;
    e.content_type = std::string(contentTypeForName(name));
    auto written = encodeOne(fs::path(src_dir) / name, cache_dir, e);
    if (!written) return unexpected(written.error());
    (*written ? report.written : report.reused) += 1;
    report.source_bytes += e.source_size;
    report.encoded_bytes += e.encoded_size;
    report.entries.push_back(std::move(e));
  }
  // The cache files' names must be durable before a manifest that lists them.
  if (!syncDirectory(cache_dir)) return unexpected(errnoText(cache_dir));
  StagedFile manifest(cache_dir);
  if (!manifest.ok() || !manifest.write(formatManifest(report.entries)) ||
      !manifest.commit(std::string(kManifestFile)) || !syncDirectory(cache_dir)) {
    return unexpected(errnoText(cache_dir + "/" + std::string(kManifestFile)));
  }
  return report;
}

Expected<VerifyReport, std::string> verifyMediaCache(const std::string& cache_dir) {
  auto entries = readManifest(cache_dir);
  if (!entries) return unexpected(entries.error());

  VerifyReport report;
  std::string decoded;
  for (const ManifestEntry& e : *entries) {
    ++report.checked;
    std::string label = cacheFileName(e.hash) + " (" + e.name + ")";
    auto file = mapCacheFile(cache_dir, e);
    if (!file) {
      report.damaged.push_back(file.error() + " (" + e.name + ")");
      continue;
    }
    std::string_view bytes = (*file)->bytes();
    decoded.clear();
    const char* why = nullptr;
    if (contentChecksum(bytes) != e.checksum) {
      why = "checksum mismatch";
    } else if (const char* bad = decodeBase64Lines(bytes, decoded)) {
      why = bad;
    } else if (decoded.size() != e.source_size) {
      why = "decodes to another size than the source's";
    } else if (hashMedia({reinterpret_cast<const uint8_t*>(decoded.data()), decoded.size()}) != e.hash) {
      why = "decodes to other content than its hash names";
    }
    if (why) report.damaged.push_back(label + ": " + why);
  }
  return report;
}

}  // namespace lbmail::media
