// A test SMTP server that follows a script: each accepted connection runs the script on its own
// thread with blocking reads and writes, so a test can say exactly what the peer does and when
// (answer byte by byte, never greet, reset mid-DATA, reply with garbage).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lbmail/core/socket_address.h"

namespace lbmail::test {

class ScriptedPeer {
 public:
  explicit ScriptedPeer(int fd);
  ~ScriptedPeer();
  ScriptedPeer(const ScriptedPeer&) = delete;
  ScriptedPeer& operator=(const ScriptedPeer&) = delete;

  void send(std::string_view bytes);
  // Sends bytes one write per byte (TCP_NODELAY is set, so the client reads them split).
  void sendByteByByte(std::string_view bytes);
  // One line without its CRLF; nullopt at end of stream or after the 10 s bound.
  std::optional<std::string> readLine();
  // Reads until terminator has arrived; returns everything up to and including it.
  std::optional<std::string> readUntil(std::string_view terminator);
  std::optional<std::string> readBytes(size_t n);
  // Bytes received but not read by the script yet, including those in the kernel now.
  size_t pendingBytes();
  // Waits for the client to close; true when it did within the bound.
  bool waitForClose();
  // Closes with a reset (SO_LINGER 0) instead of a FIN.
  void reset();
  void close();
  // The client's IP address as this server sees it.
  std::string peerHost() const;
  // The socket, for a script that takes it over (STARTTLS); -1 after close().
  int fd() const { return fd_; }

 private:
  bool fill();
  int fd_;
  std::string buffered_;
};

class ScriptedSmtpServer {
 public:
  using Script = std::function<void(ScriptedPeer& peer, int connection_index)>;

  // Listens on address (port 0 picks one) and runs script for each connection accepted.
  explicit ScriptedSmtpServer(Script script, const std::string& address = "127.0.0.1:0");
  ~ScriptedSmtpServer();  // stops accepting and joins every script

  const SocketAddress& address() const { return address_; }
  int accepted() const { return accepted_.load(); }
  int maxConcurrent() const { return max_concurrent_.load(); }

 private:
  void acceptLoop();

  Script script_;
  int listen_fd_ = -1;
  SocketAddress address_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  std::mutex mutex_;
  std::vector<std::thread> sessions_;
  std::thread acceptor_;
};

// The server half of a plain session: greeting and EHLO with the given capability lines.
void greetAndHello(ScriptedPeer& peer, const std::vector<std::string>& capabilities);

}  // namespace lbmail::test
