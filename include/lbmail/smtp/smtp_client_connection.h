// One outgoing SMTP connection: connect (from a chosen source address), greeting, EHLO with
// HELO fallback, then transactions, pipelined per RFC 2920 when the server allows it, with BDAT
// (RFC 3030) or DATA, each stage under its RFC 5321 section 4.5.3.2 timeout; QUIT at the end.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "lbmail/core/units.h"
#include "lbmail/smtp/delivery_result.h"
#include "lbmail/smtp/outgoing_message.h"
#include "lbmail/smtp/smtp_reply.h"

namespace lbmail::smtp {

struct SmtpClientSettings {
  std::string helo_name = "localhost";
  Duration connect_timeout = std::chrono::seconds(30);
  // RFC 5321 section 4.5.3.2's minimums.
  Duration greeting_timeout = std::chrono::minutes(5);
  Duration mail_timeout = std::chrono::minutes(5);  // also EHLO, HELO, RSET and QUIT
  Duration rcpt_timeout = std::chrono::minutes(5);
  Duration data_init_timeout = std::chrono::minutes(2);
  Duration data_block_timeout = std::chrono::minutes(3);
  Duration data_end_timeout = std::chrono::minutes(10);
  Duration idle_timeout = std::chrono::seconds(5);  // a ready connection with no work QUITs
  bool pipelining = true;                            // used when the server advertises it
  bool chunking = true;                              // BDAT when the server advertises CHUNKING
  // With PIPELINING and CHUNKING, whole transactions follow each other without waiting for
  // replies, up to this many on the wire at once (RFC 2920 section 3.1 allows it).
  size_t max_pipelined_transactions = 16;
};

struct ServerCapabilities {
  bool esmtp = false;
  bool pipelining = false;
  bool chunking = false;
  bool enhanced_status_codes = false;
  bool size_declared = false;  // SIZE, with or without a limit (RFC 1870)
  uint64_t size_limit = 0;     // 0 when none declared
};

// Parses an EHLO reply's lines after the first (RFC 5321 section 4.1.1.1).
ServerCapabilities parseCapabilities(const SmtpReply& ehlo);

class SmtpClientConnection {
 public:
  enum class State : uint8_t { kConnecting, kGreeting, kHello, kReady, kBusy, kQuitting, kClosing, kClosed };

  // Why a connection ended; the pool decides failover and back-off on it.
  enum class End : uint8_t {
    kQuit,            // we said QUIT (idle, reuse limit, shutdown)
    kConnectFailed,   // bind/connect error or connect timeout
    kGreetingFailed,  // no greeting in time, or a 4xx/5xx greeting, or EHLO and HELO refused
    kServiceClosing,  // 421 at any point after the greeting (RFC 5321 section 3.8)
    kTimeout,         // a reply did not come in time during a transaction
    kProtocol,        // bytes that are not SMTP, or a reply nobody asked for
    kNetwork,         // reset or closed by the server
    kAborted,         // abort() by the owner
  };
  static const char* endName(End end);

  class Handler {
   public:
    virtual ~Handler() = default;
    // Greeted and said hello, or finished a transaction: send() may be called now.
    virtual void onConnectionReady(SmtpClientConnection& connection) = 0;
    // The last call: every handle is closed and any transaction has reported. The owner may
    // delete the connection now.
    virtual void onConnectionClosed(SmtpClientConnection& connection, End end, const std::string& reason) = 0;
  };
  using TransactionDone = std::function<void(DeliveryResult&& result)>;

  SmtpClientConnection(uv_loop_t* loop, const SmtpClientSettings& settings, Handler& handler);
  SmtpClientConnection(const SmtpClientConnection&) = delete;
  SmtpClientConnection& operator=(const SmtpClientConnection&) = delete;
  ~SmtpClientConnection();

  // Starts connecting, from source when given (port 0: any). Failures arrive through
  // onConnectionClosed, never from this call.
  void connect(const std::optional<SocketAddress>& source, const SocketAddress& destination);
  // True when send() may be called: ready, or busy with transactions that more may follow.
  bool acceptsMore() const;
  // One transaction; only when acceptsMore(). message must stay unchanged until done runs; its
  // owner keeps the body alive for writes still in flight after that. done runs exactly once,
  // before onConnectionClosed when the connection fails during the transaction.
  void send(const OutgoingMessage& message, TransactionDone done);
  // Between cork() and uncork(), sends gather into one write.
  void cork();
  void uncork();
  // QUIT when ready, then close; abort() anywhere else.
  void quit();
  void abort(std::string_view reason = "aborted");

  State state() const { return state_; }
  const ServerCapabilities& capabilities() const { return caps_; }
  const SocketAddress& destination() const { return destination_; }
  Duration connectTime() const { return connect_time_; }
  Duration greetingTime() const { return greeting_time_; }
  uint32_t transactions() const { return transactions_; }
  const SmtpReply& greeting() const { return greeting_; }

 private:
  // The reply each command sent waits for, in order.
  enum class Expect : uint8_t { kGreeting, kEhlo, kHelo, kRset, kMail, kRcpt, kData, kDataEnd, kBdat, kQuit };
  struct Command {
    std::string text;
    Expect expect;
  };
  struct Write;
  struct Transaction {
    const OutgoingMessage* message = nullptr;
    TransactionDone done;
    DeliveryResult result;
    std::vector<Command> unsent;  // lock-step: commands still to send, last one first
    std::vector<SmtpReply> rcpt_replies;
    size_t next_rcpt = 0;  // recipient the next RCPT reply belongs to
    SmtpReply mail_reply;
    SmtpReply final_reply;    // DATA refusal, end of data, or BDAT LAST
    SmtpReply failure_reply;  // 421 that cut the transaction short
    bool mail_failed = false;
    bool ignore_end_reply = false;  // a lone "." after DATA with no recipient (RFC 2920 section 3.1)
    bool decided_locally = false;   // refused before sending (size, unsafe address)
    bool content_sent = false;      // DATA: 354 came and the content went out
    std::string group;              // pipelined commands not yet on the wire
    std::vector<Expect> group_expects;
    uint64_t started = 0;  // uv_hrtime
  };

  static void onConnect(uv_connect_t* req, int status);
  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onTimer(uv_timer_t* timer);
  static void onClosed(uv_handle_t* handle);

  void onReply(SmtpReply& reply);
  void onHelloReply(Expect expect, SmtpReply& reply);
  void onTransactionReply(Expect expect, SmtpReply& reply);
  void becomeReady();
  void sendCommand(std::string text, Expect expect);
  void sendNextStep();
  Write& openWrite();
  void appendText(std::string text);
  void appendBody(const OutgoingMessage& message);
  void appendDataContent(bool with_content);
  void releaseGroup(Transaction& tx, bool after_end_of_data);
  void flush();
  bool pipelining() const;
  bool anyRecipientAccepted(const Transaction& tx) const;
  void rearmForReply();
  bool writeQueueShrank();
  void armTimer(Duration timeout);
  Duration timeoutFor(Expect expect) const;
  void decideRecipients(Transaction& tx, const std::string& failure);
  void finishTransaction();
  // Ends the transaction (if any) with every undecided recipient deferred, then closes.
  void fail(End end, std::string reason);
  void closeHandles();

  uv_loop_t* loop_;
  const SmtpClientSettings& settings_;
  Handler& handler_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  State state_ = State::kConnecting;
  SocketAddress destination_;
  SmtpReplyParser parser_;
  std::deque<Expect> expected_;
  std::deque<Transaction> txs_;  // in flight, oldest first: replies come in this order
  std::unique_ptr<Write> open_write_;
  bool corked_ = false;
  uint32_t body_writes_in_flight_ = 0;
  ServerCapabilities caps_;
  SmtpReply greeting_;
  uint64_t connect_started_ = 0;
  uint64_t connected_at_ = 0;
  Duration connect_time_{0};
  Duration greeting_time_{0};
  uint32_t transactions_ = 0;  // sent
  uint32_t completed_ = 0;     // reported: later ones go over a reused connection
  size_t write_queue_at_arm_ = 0;
  uint32_t writes_in_flight_ = 0;
  int handles_open_ = 0;
  End end_ = End::kQuit;
  std::string end_reason_;
  // A failure found inside a call (connect, write) is reported from the timer, on the loop.
  std::optional<End> pending_end_;
  std::string pending_reason_;
  std::array<char, 4096> read_buffer_;
};

}  // namespace lbmail::smtp
