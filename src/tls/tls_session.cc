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

// The output BIO: OpenSSL's records go straight into the session's BufferList, whose chunks
// the owner then takes without a copy (a memory BIO would cost one more copy of every
// octet sent, and a growing buffer to hold them).
struct TlsSession::OutputBio {
  static int write(BIO* bio, const char* data, size_t n, size_t* written) {
    static_cast<TlsSession*>(BIO_get_data(bio))->output_.append(data, n);
    *written = n;
    return 1;
  }
  static long ctrl(BIO* bio, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_WPENDING:
        return static_cast<long>(static_cast<TlsSession*>(BIO_get_data(bio))->output_.size());
      default:
        return 0;  // not supported: OpenSSL asks only the above of a write BIO
    }
  }
  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }
  static const BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "lbmail TLS output");
      BIO_meth_set_write_ex(made, write);
      BIO_meth_set_ctrl(made, ctrl);
      BIO_meth_set_create(made, create);
      return made;
    }();
    return m;
  }
};

TlsSession::TlsSession(SSL* ssl) : ssl_(ssl), in_(BIO_new(BIO_s_mem())), out_(BIO_new(OutputBio::method())) {
  // An empty input BIO must read as "retry later", not as end of file.
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_data(out_, this);
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
  // Our BIOs never push back, so one call encrypts everything or the session is dead.
  if (SSL_write_ex(ssl_, data, n, &written) == 1 && written == n) return true;
  fail(SSL_get_error(ssl_, 0));
  return false;
}

bool TlsSession::newSession(SSL_SESSION* session) {
  if (!new_session_) return false;
  new_session_(session);
  return true;
}

size_t TlsSession::pendingOutput() const { return output_.size(); }

void TlsSession::takeOutput(BufferList& out) { output_.moveTo(out); }

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
