// A blocking HTTPS client for the admin server's TLS tests (OpenSSL on a socket), so a test
// can do what curl will not: stay silent after the handshake, or send without reading.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "lbmail/core/socket_address.h"
#include "tcp_client.h"

namespace lbmail::test {

class TlsTestClient {
 public:
  // Connects and completes the handshake, verifying the server against ca_file for the name
  // (an IP address literal is checked as one). Every read gives up after 10 s.
  TlsTestClient(const SocketAddress& addr, const std::string& ca_file, const std::string& name);
  ~TlsTestClient();
  TlsTestClient(const TlsTestClient&) = delete;
  TlsTestClient& operator=(const TlsTestClient&) = delete;

  bool ok() const { return ssl_ != nullptr && error_.empty(); }
  const std::string& error() const { return error_; }
  bool send(const std::string& bytes);
  // One response with a Content-Length body.
  std::optional<HttpResponse> readResponse();
  // Reads until the server closes (close_notify or end of stream): true when it did, false
  // on a read error or the 10 s bound. Anything read is dropped.
  bool readUntilClosed();

 private:
  bool fill();

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
  std::string buffered_;
};

}  // namespace lbmail::test
