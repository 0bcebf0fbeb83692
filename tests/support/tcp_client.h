// A blocking TCP client for tests, with an HTTP/1.1 response reader.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "lbmail/core/socket_address.h"

namespace lbmail::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class TcpClient {
 public:
  // Connects; every receive gives up after 10 s so a broken server fails the test, not hangs it.
  explicit TcpClient(const SocketAddress& addr);
  // From a chosen local address (port 0: any), such as another loopback address 127.0.0.N.
  TcpClient(const SocketAddress& addr, const SocketAddress& source);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // The local end, as the server sees it as its peer.
  SocketAddress localAddress() const;
  bool send(const std::string& bytes);
  // Half-closes: the peer reads end of stream, and can still answer.
  void shutdownWrite();
  // One response; HEAD responses carry no body whatever Content-Length says.
  std::optional<HttpResponse> readResponse(bool head = false);
  // Reads until the peer closes; returns everything received (after what readResponse kept).
  std::string readUntilClosed();
  // True when the peer has closed: the next read returns end of stream (or a reset).
  bool peerClosed();
  // Raw access for binary protocols: received() holds what arrived and was not consumed;
  // receiveMore() waits for more bytes (false at end of stream, error or the 10 s bound).
  std::string& received() { return buffered_; }
  bool receiveMore() { return fill(); }

 private:
  bool fill();

  int fd_ = -1;
  std::string buffered_;
};

// GET path on a fresh connection.
std::optional<HttpResponse> httpGet(const SocketAddress& addr, const std::string& path);

}  // namespace lbmail::test
