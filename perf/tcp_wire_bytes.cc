// TCP_INFO byte counters of this process's sockets, found through /proc/self/fd.
#include "tcp_wire_bytes.h"

// The kernel's struct tcp_info: glibc's <netinet/tcp.h> lacks the byte counters.
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

namespace lbmail::perf {
namespace {

bool peerPortIs(int fd, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port) == port;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port) == port;
  return false;
}

}  // namespace

std::optional<WireBytes> wireBytesToPort(uint16_t peer_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  std::optional<WireBytes> bytes;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    if (!peerPortIs(static_cast<int>(fd), peer_port)) continue;
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_INFO, &info, &len) != 0) continue;
    // tcpi_bytes_sent arrived last (Linux 4.19): a shorter answer means an older kernel.
    if (len < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent) continue;
    if (!bytes) bytes = WireBytes{};
    bytes->sent += info.tcpi_bytes_sent;
    bytes->received += info.tcpi_bytes_received;
  }
  closedir(dir);
  return bytes;
}

}  // namespace lbmail::perf
