// One TLS connection as a state machine over BIOs in memory: the owner moves ciphertext between
// it and its socket, so TLS never blocks the loop and needs nothing of the transport. The link
// uses it today; STARTTLS on SMTP connections is the next user.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "lbmail/core/buffer_list.h"

namespace lbmail::tls {

class TlsSession {
 public:
  enum class Status {
    kOk,         // the call did what it was asked
    kWantInput,  // more ciphertext from the peer is needed first
    kClosed,     // the peer sent close_notify
    kError,      // the connection is dead: error() says why
  };

  // Takes ownership of ssl (configured by its SSL_CTX for client or server) and gives it a pair
  // of memory BIOs.
  explicit TlsSession(SSL* ssl);
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession();

  // The session an OpenSSL callback runs for (nullptr when ssl has none).
  static TlsSession* of(const SSL* ssl);

  // Ciphertext as it came from the peer.
  void feed(const uint8_t* data, size_t n);
  // Runs the handshake as far as the input allows: kOk once it is complete.
  Status handshake();
  // False again while OpenSSL reads a post-handshake message: callers latch the first kOk.
  bool handshakeDone() const { return SSL_is_init_finished(ssl_) == 1; }
  // Plaintext into buf: *got bytes (kOk), or none for now (kWantInput), or kClosed / kError.
  Status read(uint8_t* buf, size_t cap, size_t* got);
  // Encrypts all of data (the output BIO takes everything); false on a dead connection.
  bool write(const uint8_t* data, size_t n);

  // Ciphertext waiting for the socket, and taking it (its chunks move to out, no copy).
  size_t pendingOutput() const;
  void takeOutput(BufferList& out);

  // Why the session failed: OpenSSL's reason and any note a callback left.
  const std::string& error() const { return error_; }
  // For callbacks that know more than OpenSSL's error code will say ("unknown PSK identity").
  void noteFailure(std::string note) { note_ = std::move(note); }
  SSL* ssl() const { return ssl_; }

  // Client session resumption: an SSL_CTX's new-session callback (SSL_CTX_sess_set_new_cb)
  // passes each session the server issues (a TLS 1.3 ticket arrives after the handshake) to
  // the listener of the TlsSession it finds through of(). The listener takes the reference
  // the callback was given; without one, newSession() returns false and takes nothing.
  void setNewSessionListener(std::function<void(SSL_SESSION*)> listener) { new_session_ = std::move(listener); }
  bool newSession(SSL_SESSION* session);

 private:
  struct OutputBio;

  Status fail(int ssl_error);

  SSL* ssl_;
  BIO* in_;   // owned by ssl_: a memory BIO the peer's ciphertext is fed into
  BIO* out_;  // owned by ssl_: writes into output_
  BufferList output_;  // records made and not yet taken
  std::string error_;
  std::string note_;
  std::function<void(SSL_SESSION*)> new_session_;
};

}  // namespace lbmail::tls
