// TLS over memory BIOs (OpenSSL libssl).
#include "lbmail/tls/tls_session.h"

#include <openssl/err.h>

#include <algorithm>
#include <climits>

namespace lbmail::tls {
namespace {

// The session behind an SSL, for callbacks (ex_data index allocated once per process).
int sessionIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's error queue is per thread and outlives a failed call: take it all, keep the first.
std::string drainErrorQueue() {
  std::string first;
  while (unsigned long code = ERR_get_error()) {
    if (first.empty()) {
      char text[256];
      ERR_error_string_n(code, text, sizeof text);
      first = text;
    }
  }
  return first;
}

}  // namespace

TlsSession::TlsSession(SSL* ssl) : ssl_(ssl), in_(BIO_new(BIO_s_mem())), out_(BIO_new(BIO_s_mem())) {
  // An empty input BIO must read as "retry later", not as end of file.
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_mem_eof_return(out_, -1);
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_ex_data(ssl_, sessionIndex(), this);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession* TlsSession::of(const SSL* ssl) { return static_cast<TlsSession*>(SSL_get_ex_data(ssl, sessionIndex())); }

void TlsSession::feed(const uint8_t* data, size_t n) {
  while (n > 0) {
    int chunk = static_cast<int>(std::min<size_t>(n, INT_MAX));
    int wrote = BIO_write(in_, data, chunk);
    if (wrote <= 0) return;  // only on allocation failure; the handshake or read then fails
    data += wrote;
    n -= static_cast<size_t>(wrote);
  }
}

TlsSession::Status TlsSession::handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return Status::kOk;
  return fail(SSL_get_error(ssl_, rc));
}

TlsSession::Status TlsSession::read(uint8_t* buf, size_t cap, size_t* got) {
  *got = 0;
  ERR_clear_error();
  int rc = SSL_read_ex(ssl_, buf, cap, got);
  if (rc == 1) return Status::kOk;
  return fail(SSL_get_error(ssl_, rc));
}

bool TlsSession::write(const uint8_t* data, size_t n) {
  if (n == 0) return true;
  ERR_clear_error();
  size_t written = 0;
  // Memory BIOs never push back, so one call encrypts everything or the session is dead.
  if (SSL_write_ex(ssl_, data, n, &written) == 1 && written == n) return true;
  fail(SSL_get_error(ssl_, 0));
  return false;
}

bool TlsSession::newSession(SSL_SESSION* session) {
  if (!new_session_) return false;
  new_session_(session);
  return true;
}

size_t TlsSession::pendingOutput() const { return BIO_ctrl_pending(out_); }

void TlsSession::takeOutput(BufferList& out) {
  size_t n = pendingOutput();
  if (n == 0) return;
  uint8_t* dest = out.append(n);
  // A memory BIO hands out everything it holds in one read.
  BIO_read(out_, dest, static_cast<int>(n));
}

TlsSession::Status TlsSession::fail(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return Status::kWantInput;
    case SSL_ERROR_ZERO_RETURN:
      return Status::kClosed;
    default:
      break;
  }
  std::string reason = drainErrorQueue();
  if (reason.empty()) reason = "TLS error " + std::to_string(ssl_error);
  error_ = note_.empty() ? reason : note_ + " (" + reason + ")";
  return Status::kError;
}

}  // namespace lbmail::tls
