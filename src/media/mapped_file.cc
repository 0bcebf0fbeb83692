// mmap of the cache's immutable files.
#include "lbmail/media/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbmail::media {

Expected<std::shared_ptr<const MappedFile>, std::string> MappedFile::open(int dir_fd, const std::string& name,
                                                                          uint64_t expected_size) {
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return unexpected(name + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return unexpected(name + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) != expected_size) {
    ::close(fd);
    return unexpected(name + ": " + std::to_string(st.st_size) + " octets on disk, manifest says " +
                      std::to_string(expected_size));
  }
  void* data = nullptr;
  if (expected_size > 0) {
    data = ::mmap(nullptr, expected_size, PROT_READ, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return unexpected(name + ": mmap: " + std::strerror(err));
    }
  }
  ::close(fd);  // the mapping keeps the file
  return std::shared_ptr<const MappedFile>(new MappedFile(data, expected_size));
}

MappedFile::~MappedFile() {
  if (size_ > 0) ::munmap(data_, size_);
}

}  // namespace lbmail::media
