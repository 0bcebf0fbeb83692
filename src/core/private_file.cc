// Secrets from owner-only files: one open, then every check on that descriptor.
#include "lbmail/core/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lbmail {
namespace {

// Why the open file must not be trusted, or "" when it may be.
std::string fileProblem(int fd, const std::string& name, size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "cannot read " + name + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return name + " is not a regular file";
  if (static_cast<size_t>(st.st_size) > max_bytes) return name + " is larger than " + std::to_string(max_bytes) + " bytes";
  if (st.st_uid != ::geteuid()) {
    return name + " is owned by uid " + std::to_string(st.st_uid) + ", not by the running user (uid " +
           std::to_string(::geteuid()) + ")";
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) return name + " is accessible to its group or other users; chmod 0600 it";
  return "";
}

Expected<std::string, std::string> readAll(int fd, const std::string& name, size_t max_bytes) {
  if (std::string problem = fileProblem(fd, name, max_bytes); !problem.empty()) return unexpected(problem);
  std::string bytes(max_bytes + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      wipeSecret(bytes);
      return unexpected("cannot read " + name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) {  // grew since fstat
    wipeSecret(bytes);
    return unexpected(name + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace

Expected<std::string, std::string> readPrivateFile(const std::string& path, const char* what, size_t max_bytes) {
  std::string name = std::string(what) + " " + path;
  // Checking the path with stat and opening it afterwards lets the file be swapped between the
  // two. O_NOFOLLOW refuses a symlink, whose target another user may control; O_NONBLOCK keeps a
  // FIFO from blocking start-up.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ELOOP) return unexpected(name + " is a symbolic link; name the file itself");
    return unexpected("cannot read " + name + ": " + std::strerror(errno));
  }
  Expected<std::string, std::string> bytes = readAll(fd, name, max_bytes);
  ::close(fd);
  return bytes;
}

void wipeSecret(std::string& secret) {
  // volatile: the compiler may not drop stores to memory that is about to be freed.
  volatile char* p = secret.data();
  for (size_t i = 0; i < secret.size(); ++i) p[i] = 0;
}

}  // namespace lbmail
