// One outgoing SMTP connection: a libuv TCP socket (bound to a chosen source address) and one
// timer beneath an SmtpClientProtocol, which decides every command, timeout phase and result.
// After STARTTLS a TLS session over memory BIOs sits between the socket and the protocol.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lbmail/core/buffer_list.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"
#include "lbmail/delivery/delivery_result.h"
#include "lbmail/smtp/outgoing_message.h"
#include "lbmail/smtp/smtp_client_protocol.h"
#include "smtp_tls_context.h"

namespace lbmail::delivery {

using smtp::OutgoingMessage;
using smtp::ServerCapabilities;
using smtp::SmtpClientSettings;

class SmtpClientConnection final : private smtp::SmtpClientProtocol::Transport {
 public:
  using State = smtp::SmtpClientProtocol::State;
  using End = smtp::SmtpClientProtocol::End;
  using StartTls = smtp::SmtpClientProtocol::StartTls;
  static const char* endName(End end) { return smtp::SmtpClientProtocol::endName(end); }

  class Handler {
   public:
    virtual ~Handler() = default;
    // Greeted and said hello, or finished a transaction: send() may be called now.
    virtual void onConnectionReady(SmtpClientConnection& connection) = 0;
    // The last call: every handle is closed and any transaction has reported. The owner may
    // delete the connection now.
    virtual void onConnectionClosed(SmtpClientConnection& connection, End end, const std::string& reason) = 0;
    // The server issued a TLS session (a TLS 1.3 ticket) a later connection may resume.
    virtual void onTlsSession(SmtpClientConnection& /*connection*/, SharedSslSession /*session*/) {}
  };
  using TransactionDone = std::function<void(DeliveryResult&& result)>;

  SmtpClientConnection(uv_loop_t* loop, const SmtpClientSettings& settings, Handler& handler);
  SmtpClientConnection(const SmtpClientConnection&) = delete;
  SmtpClientConnection& operator=(const SmtpClientConnection&) = delete;
  ~SmtpClientConnection() override;

  // Before connect(): STARTTLS per mode, the session checked as requirement says, offering
  // resume (may be null) for resumption. Without it the connection never says STARTTLS.
  void setTls(const SmtpTlsContext& context, const TlsRequirement& requirement, StartTls mode,
              SharedSslSession resume);
  // Starts connecting, from source when given (port 0: any). Failures arrive through
  // onConnectionClosed, never from this call.
  void connect(const std::optional<SocketAddress>& source, const SocketAddress& destination);
  // True when send() may be called: ready, or busy with transactions that more may follow.
  bool acceptsMore() const { return protocol_.acceptsMore(); }
  // One transaction; only when acceptsMore(). message must stay unchanged until done runs; its
  // owner keeps the body alive for writes still in flight after that. done runs exactly once,
  // before onConnectionClosed when the connection fails during the transaction.
  void send(const OutgoingMessage& message, TransactionDone done);
  // Between cork() and uncork(), sends gather into one write.
  void cork() { protocol_.cork(); }
  void uncork() { protocol_.uncork(); }
  // QUIT when ready, then close; abort() anywhere else.
  void quit() { protocol_.quit(); }
  void abort(std::string_view reason = "aborted") { protocol_.fail(End::kAborted, std::string(reason)); }

  State state() const { return closed_ ? State::kClosed : protocol_.state(); }
  const ServerCapabilities& capabilities() const { return protocol_.capabilities(); }
  const SocketAddress& destination() const { return destination_; }
  Duration connectTime() const { return connect_time_; }
  Duration greetingTime() const { return greeting_time_; }
  uint32_t transactions() const { return protocol_.transactions(); }
  const smtp::SmtpReply& greeting() const { return protocol_.greeting(); }
  // After the TLS handshake: whether it resumed an earlier session, and what it came to.
  bool secured() const { return protocol_.secured(); }
  bool tlsResumed() const { return tls_resumed_; }
  const TlsInfo& tls() const { return tls_info_; }

 private:
  struct Write;

  // SmtpClientProtocol::Transport
  void write(std::unique_ptr<smtp::SmtpClientWrite> write) override;
  void armTimer(smtp::TimeoutPhase phase) override;
  void onGreeting(const smtp::SmtpReply& greeting) override;
  void onReady() override { handler_.onConnectionReady(*this); }
  void close() override;
  void startTls() override;

  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onTimer(uv_timer_t* timer);

  void submit(std::unique_ptr<Write> w);
  // TLS: ciphertext in; the handshake, then plaintext to the protocol.
  void onCiphertext(const char* data, size_t n);
  void readPlaintext();
  bool encrypt(const smtp::SmtpClientWrite& data, BufferList& out);
  // Handshake flights, alerts and other records TLS has queued.
  void flushTls();
  // A failure found inside a call (connect, write) is reported from the timer, on the loop.
  void failSoon(End end, std::string reason);
  void startTimer(Duration timeout);
  bool writeQueueShrank();
  size_t writeQueueSize();

  uv_loop_t* loop_;
  const SmtpClientSettings& settings_;
  Handler& handler_;
  smtp::SmtpClientProtocol protocol_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  HandleCloser closer_;
  bool handles_open_ = false;
  bool closed_ = false;
  SocketAddress destination_;
  uint64_t connect_started_ = 0;
  uint64_t connected_at_ = 0;
  Duration connect_time_{0};
  Duration greeting_time_{0};
  size_t write_queue_at_arm_ = 0;
  std::optional<End> pending_end_;
  std::string pending_reason_;
  std::array<char, 4096> read_buffer_;
  const SmtpTlsContext* tls_context_ = nullptr;
  TlsRequirement tls_requirement_;
  SharedSslSession resume_;
  std::unique_ptr<tls::TlsSession> tls_;
  bool tls_up_ = false;  // latched: OpenSSL says "in init" again during post-handshake messages
  bool tls_resumed_ = false;
  TlsInfo tls_info_;
  std::string tls_staging_;  // small slices gathered into one record
};

}  // namespace lbmail::delivery
