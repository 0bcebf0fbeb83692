// One SMTP client connection to the sink: the protocol machine, the rules' latency and
// failures applied to it, deadlines, and ordered, batched replies.
#pragma once

#include <uv.h>

#include <list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lbmail/core/buffer_list.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/smtp/smtp_server_protocol.h"
#include "lbmail/tls/tls_session.h"
#include "sink_rules.h"
#include "sink_session_owner.h"

namespace lbmail {

class SinkSession final : private smtp::SmtpServerProtocol::Policy {
 public:
  using Handle = std::list<std::unique_ptr<SinkSession>>::iterator;

  SinkSession(SinkSessionOwner& sink, uint64_t seed);
  SinkSession(const SinkSession&) = delete;
  SinkSession& operator=(const SinkSession&) = delete;

  // Accepts from the listener; then the sink either greets or refuses (421) the client.
  void start(uv_stream_t* listener, Handle self);
  void greet();
  void refuse(std::string_view text);
  void close();

  Handle handle() const { return self_; }
  const std::string& clientHost() const { return client_host_; }

 private:
  struct WriteRequest {
    uv_write_t req;
    // Not req->handle->data: that points at the closer once close() ran, and libuv still
    // calls back pending writes (UV_ECANCELED) then.
    SinkSession* session;
    std::string text;     // a batch's replies, joined: a few bytes each, sent in one write
    BufferList records;   // or, after STARTTLS, TLS records (replies, handshake flights, alerts)
  };

  // Policy
  smtp::SmtpServerProtocol::Decision onMail(std::string_view sender) override;
  smtp::SmtpServerProtocol::Decision onRecipient(std::string_view address) override;
  smtp::SmtpServerProtocol::Decision onMessage(const smtp::ReceivedMessage& message) override;
  bool keepBodies() const override;
  bool reserveBody(size_t bytes) override { return sink_.reserveBody(bytes); }
  void releaseBody(size_t bytes) override { sink_.releaseBody(bytes); }

  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onDelay(uv_timer_t* timer);
  static void onIdle(uv_timer_t* timer);

  // Bytes from the client in plaintext: to the protocol, and its replies back.
  void received(std::string_view bytes);
  // Sends replies after the latency the rules give their kind; reading pauses meanwhile.
  void respond(std::vector<smtp::ServerReply> replies);
  void writeNow(std::vector<smtp::ServerReply> replies);
  void write(WriteRequest* w, const uv_buf_t* bufs, unsigned count);

  // STARTTLS (RFC 3207): the 220 went out in plaintext, every later byte is TLS.
  void beginTls();
  void receivedTls(std::string_view ciphertext);
  void finishHandshake();
  void tlsFailed(const std::string& reason);
  // Plaintext the TLS session holds, fed to the protocol while nothing waits for its latency.
  void drainTls();
  // Encrypts text (or only takes handshake records when it is empty) and writes the records.
  void writeTls(std::string_view text, bool close_notify);
  void armIdle();
  // Reads while nothing waits for its latency and the replies queued for a client that does
  // not read them stay under the high-water mark; accounts the memory held.
  void updateReading();
  void accountBuffers();
  const SinkRule& rule(std::string_view domain) const;
  bool roll(double probability);

  SinkSessionOwner& sink_;
  Handle self_;
  uv_tcp_t tcp_;
  uv_timer_t delay_timer_;
  uv_timer_t idle_timer_;
  HandleCloser closer_;
  bool close_after_write_ = false;
  bool reading_ = false;
  bool draining_ = false;
  size_t writes_in_flight_ = 0;
  size_t accounted_ = 0;  // bytes last reported through bufferedChanged

  std::string client_host_;
  std::mt19937_64 rng_;
  smtp::SmtpServerProtocol protocol_;
  std::vector<smtp::ServerReply> delayed_;  // a batch waiting for its latency
  bool data_rolled_ = false;              // the drop-in-DATA draw for this message is done
  uint32_t messages_ = 0;
  std::string first_domain_;              // of the transaction's first recipient

  std::unique_ptr<tls::TlsSession> tls_;  // from the 220 to STARTTLS on
  bool tls_up_ = false;                   // the handshake completed
  std::string tls_version_;
  std::string tls_cipher_;
};

}  // namespace lbmail
