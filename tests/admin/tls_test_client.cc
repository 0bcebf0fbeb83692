// A blocking HTTPS test client over OpenSSL.
#include "tls_test_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>

namespace lbmail::test {
namespace {

std::string lastSslError(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return std::string(what) + ": " + buf;
}

}  // namespace

TlsTestClient::TlsTestClient(const SocketAddress& addr, const std::string& ca_file, const std::string& name) {
  fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd_ < 0 || ::connect(fd_, addr.sockaddrPtr(), addr.length()) != 0) {
    error_ = "cannot connect";
    return;
  }
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (SSL_CTX_load_verify_file(ctx_, ca_file.c_str()) != 1) {
    error_ = lastSslError("CA file");
    return;
  }
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  in6_addr ip;
  if (inet_pton(AF_INET, name.c_str(), &ip) == 1 || inet_pton(AF_INET6, name.c_str(), &ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    SSL_set1_host(ssl_, name.c_str());
  }
  if (SSL_connect(ssl_) != 1) error_ = lastSslError("handshake");
}

TlsTestClient::~TlsTestClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool TlsTestClient::send(const std::string& bytes) {
  size_t written = 0;
  return ok() && SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) == 1 && written == bytes.size();
}

bool TlsTestClient::fill() {
  char buf[16 * 1024];
  size_t got = 0;
  if (!ok() || SSL_read_ex(ssl_, buf, sizeof buf, &got) != 1) return false;
  buffered_.append(buf, got);
  return true;
}

std::optional<HttpResponse> TlsTestClient::readResponse() {
  size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  HttpResponse r;
  std::string head = buffered_.substr(0, end + 2);
  if (head.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
  r.status = std::atoi(head.c_str() + 9);
  for (size_t at = head.find("\r\n") + 2; at < head.size();) {
    size_t eol = head.find("\r\n", at);
    std::string line = head.substr(at, eol - at);
    size_t colon = line.find(':');
    std::string key = line.substr(0, colon);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (colon != std::string::npos) r.headers[key] = line.substr(line.find_first_not_of(' ', colon + 1));
    at = eol + 2;
  }
  size_t length = std::strtoul(r.headers["content-length"].c_str(), nullptr, 10);
  while (buffered_.size() < end + 4 + length) {
    if (!fill()) return std::nullopt;
  }
  r.body = buffered_.substr(end + 4, length);
  buffered_.erase(0, end + 4 + length);
  return r;
}

bool TlsTestClient::readUntilClosed() {
  while (fill()) buffered_.clear();
  int err = SSL_get_error(ssl_, 0);
  // close_notify, or end of stream without it (SSL_ERROR_SSL "unexpected eof"), or a reset;
  // a timeout (SSL_ERROR_SYSCALL with EAGAIN) is not a close.
  bool timed_out = err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
  ERR_clear_error();
  return !timed_out;
}

}  // namespace lbmail::test
