// Scripted SMTP server for client tests.
#include "scripted_smtp_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace lbmail::test {

ScriptedPeer::ScriptedPeer(int fd) : fd_(fd) {
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

ScriptedPeer::~ScriptedPeer() { close(); }

void ScriptedPeer::send(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void ScriptedPeer::sendByteByByte(std::string_view bytes) {
  for (char c : bytes) send(std::string_view(&c, 1));
}

bool ScriptedPeer::fill() {
  if (fd_ < 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffered_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> ScriptedPeer::readUntil(std::string_view terminator) {
  size_t pos;
  while ((pos = buffered_.find(terminator)) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  std::string out = buffered_.substr(0, pos + terminator.size());
  buffered_.erase(0, pos + terminator.size());
  return out;
}

std::optional<std::string> ScriptedPeer::readLine() {
  std::optional<std::string> line = readUntil("\r\n");
  if (line) line->resize(line->size() - 2);
  return line;
}

std::optional<std::string> ScriptedPeer::readBytes(size_t n) {
  while (buffered_.size() < n) {
    if (!fill()) return std::nullopt;
  }
  std::string out = buffered_.substr(0, n);
  buffered_.erase(0, n);
  return out;
}

size_t ScriptedPeer::pendingBytes() {
  int avail = 0;
  if (fd_ >= 0) ioctl(fd_, FIONREAD, &avail);
  return buffered_.size() + static_cast<size_t>(avail);
}

bool ScriptedPeer::waitForClose() {
  while (fill()) {
  }
  char c;
  return fd_ >= 0 && ::recv(fd_, &c, 1, MSG_DONTWAIT) == 0;
}

void ScriptedPeer::reset() {
  if (fd_ < 0) return;
  linger l{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

std::string ScriptedPeer::peerHost() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd_ < 0 || getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).host();
}

void ScriptedPeer::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

ScriptedSmtpServer::ScriptedSmtpServer(Script script, const std::string& address) : script_(std::move(script)) {
  std::optional<SocketAddress> want = SocketAddress::parse(address);
  if (!want) {
    ADD_FAILURE() << "bad address " << address;
    return;
  }
  listen_fd_ = ::socket(want->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listen_fd_, want->sockaddrPtr(), want->length()) != 0 || ::listen(listen_fd_, 512) != 0) {
    ADD_FAILURE() << "cannot listen on " << address;
    return;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  address_ = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  acceptor_ = std::thread([this] { acceptLoop(); });
}

ScriptedSmtpServer::~ScriptedSmtpServer() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::lock_guard lock(mutex_);
  for (std::thread& t : sessions_) t.join();
}

void ScriptedSmtpServer::acceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;  // wakes to notice stopping_
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int index = accepted_++;
    int now = ++concurrent_;
    int seen = max_concurrent_.load();
    while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
    }
    std::lock_guard lock(mutex_);
    sessions_.emplace_back([this, fd, index] {
      {
        ScriptedPeer peer(fd);
        script_(peer, index);
      }
      --concurrent_;
    });
  }
}

void greetAndHello(ScriptedPeer& peer, const std::vector<std::string>& capabilities) {
  peer.send("220 scripted.test ESMTP\r\n");
  std::optional<std::string> ehlo = peer.readLine();
  ASSERT_TRUE(ehlo && ehlo->starts_with("EHLO ")) << (ehlo ? *ehlo : "(closed)");
  std::string reply = capabilities.empty() ? "250 scripted.test\r\n" : "250-scripted.test\r\n";
  for (size_t i = 0; i < capabilities.size(); ++i) {
    reply += (i + 1 < capabilities.size() ? "250-" : "250 ") + capabilities[i] + "\r\n";
  }
  peer.send(reply);
}

}  // namespace lbmail::test
