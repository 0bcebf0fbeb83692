// Blocking TCP and HTTP helpers for tests.
#include "tcp_client.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace lbmail::test {

TcpClient::TcpClient(const SocketAddress& addr) : TcpClient(addr, SocketAddress()) {}

TcpClient::TcpClient(const SocketAddress& addr, const SocketAddress& source) {
  fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool bound = source.family() != addr.family() || ::bind(fd_, source.sockaddrPtr(), source.length()) == 0;
  if (!bound || ::connect(fd_, addr.sockaddrPtr(), addr.length()) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

SocketAddress TcpClient::localAddress() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return SocketAddress();
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
}

TcpClient::~TcpClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool TcpClient::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void TcpClient::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool TcpClient::fill() {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }
}

std::optional<HttpResponse> TcpClient::readResponse(bool head) {
  size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  HttpResponse r;
  std::string head_text = buffered_.substr(0, end);
  buffered_.erase(0, end + 4);
  size_t line_end = head_text.find("\r\n");
  std::string status_line = head_text.substr(0, line_end);
  if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
  r.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
  while (pos < head_text.size()) {
    size_t next = head_text.find("\r\n", pos);
    if (next == std::string::npos) next = head_text.size();
    std::string line = head_text.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t v = line.find_first_not_of(' ', colon + 1);
    r.headers[name] = v == std::string::npos ? "" : line.substr(v);
    pos = next + 2;
  }
  size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  if (head) return r;
  while (buffered_.size() < length) {
    if (!fill()) return std::nullopt;
  }
  r.body = buffered_.substr(0, length);
  buffered_.erase(0, length);
  return r;
}

std::string TcpClient::readUntilClosed() {
  while (fill()) {
  }
  std::string out;
  out.swap(buffered_);
  return out;
}

bool TcpClient::peerClosed() {
  char c;
  for (;;) {
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;  // EAGAIN here means the 10 s bound passed: not closed
    buffered_.push_back(c);
    return false;
  }
}

std::optional<HttpResponse> httpGet(const SocketAddress& addr, const std::string& path) {
  TcpClient c(addr);
  if (!c.connected()) return std::nullopt;
  if (!c.send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n")) return std::nullopt;
  return c.readResponse();
}

}  // namespace lbmail::test
