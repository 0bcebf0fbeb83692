// The sending side of an SMTP session without I/O: reply bytes in; writes, timer phases and
// per-transaction results out. Greeting, EHLO with HELO fallback, then transactions, pipelined
// per RFC 2920 when the server allows it, with BDAT (RFC 3030) or DATA; QUIT at the end. STARTTLS
// (RFC 3207) when asked: the transport beneath (a libuv socket in src/delivery, a recorder in
// tests) owns sockets, timers and the TLS session; this object only says when TLS starts.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/smtp/outgoing_message.h"
#include "lbmail/smtp/smtp_capabilities.h"
#include "lbmail/smtp/smtp_client_settings.h"
#include "lbmail/smtp/smtp_reply.h"
#include "lbmail/smtp/smtp_transaction_result.h"

namespace lbmail::smtp {

// One gathered write (writev): command texts and body slices, in order.
struct SmtpClientWrite {
  std::deque<std::string> texts;         // the commands; a deque never moves them, so slices stay valid
  std::vector<std::string_view> slices;  // into texts, into message bodies, or static memory
  std::vector<std::shared_ptr<const void>> owners;  // the bodies' bytes, alive until written
  bool carries_body = false;
};

class SmtpClientProtocol {
 public:
  enum class State : uint8_t { kConnecting, kGreeting, kHello, kReady, kBusy, kQuitting, kClosing, kClosed };

  // Why a session ended; the pool decides failover and back-off on it.
  enum class End : uint8_t {
    kQuit,            // we said QUIT (idle, reuse limit, shutdown)
    kConnectFailed,   // bind/connect error or connect timeout
    kGreetingFailed,  // no greeting in time, or a 4xx/5xx greeting, or EHLO and HELO refused
    kServiceClosing,  // 421 at any point after the greeting (RFC 5321 section 3.8)
    kTimeout,         // a reply did not come in time during a transaction
    kProtocol,        // bytes that are not SMTP, or a reply nobody asked for
    kNetwork,         // reset or closed by the server
    kAborted,         // abort() by the owner
    kTlsFailed,       // the TLS handshake failed or timed out after the server's 220 to STARTTLS
    kTlsUnavailable,  // TLS required, but the server did not offer STARTTLS or refused it
  };
  // Whether the session upgrades to TLS with STARTTLS (RFC 3207) after the first EHLO.
  enum class StartTls : uint8_t {
    kNever,      // plain, even when offered
    kIfOffered,  // when the server advertises it; plain when it does not, or refuses it
    kRequired,   // no transaction without TLS: not offered or refused ends the session
  };
  static const char* endName(End end);

  // What the protocol needs from beneath. Every call comes from inside a call into the
  // protocol, in order.
  class Transport {
   public:
    virtual ~Transport() = default;
    // Sends one gathered write; onWritten() follows when it has gone out.
    virtual void write(std::unique_ptr<SmtpClientWrite> write) = 0;
    // (Re)arms the one timer for phase; onTimeout() when it runs out.
    virtual void armTimer(TimeoutPhase phase) = 0;
    virtual void onGreeting(const SmtpReply& greeting) = 0;
    // Greeted and said hello, or finished every transaction: send() may be called now.
    virtual void onReady() = 0;
    // The server said 220 to STARTTLS: start the TLS handshake (the kStartTls timer is armed);
    // every byte read from now on is TLS. Answer with onTlsEstablished(), or fail(kTlsFailed).
    virtual void startTls() = 0;
    // The session is over (end(), endReason()): stop reading and writing. Transactions still
    // in flight report right after this call.
    virtual void close() = 0;
  };
  using TransactionDone = std::function<void(SmtpTransactionResult&& result)>;

  SmtpClientProtocol(const SmtpClientSettings& settings, Transport& transport);
  SmtpClientProtocol(const SmtpClientProtocol&) = delete;
  SmtpClientProtocol& operator=(const SmtpClientProtocol&) = delete;

  // Before start(); kNever unless set.
  void setStartTls(StartTls mode) { start_tls_ = mode; }
  // Connected: waits for the greeting.
  void start();
  // Bytes the server sent, cut anywhere.
  void receive(std::string_view bytes);
  // The transport's write carrying body bytes (or not) has gone out.
  void onWritten(bool carried_body);
  // The timer armed last ran out. link_draining tells whether body bytes went out since the
  // data-block timer was armed; it is asked only when that matters.
  void onTimeout(const std::function<bool()>& link_draining);
  // The server closed the connection, or it broke: reason says how.
  void onConnectionLost(std::string reason);
  // The TLS handshake asked for by startTls() completed: EHLO again (RFC 3207 section 4.2).
  void onTlsEstablished();

  // True when send() may be called: ready, or busy with transactions that more may follow.
  bool acceptsMore() const;
  // One transaction; only when acceptsMore(). message must stay unchanged until done runs.
  // done runs exactly once, never from inside this call.
  void send(const OutgoingMessage& message, TransactionDone done);
  // Between cork() and uncork(), sends gather into one write.
  void cork();
  void uncork();
  // QUIT when ready; fail(kAborted) anywhere else before quitting.
  void quit();
  // Ends every transaction in flight with its undecided recipients deferred, then closes.
  void fail(End end, std::string reason);

  State state() const { return state_; }
  const ServerCapabilities& capabilities() const { return caps_; }
  const SmtpReply& greeting() const { return greeting_; }
  uint32_t transactions() const { return transactions_; }  // sent
  uint32_t completed() const { return completed_; }        // reported
  End end() const { return end_; }
  const std::string& endReason() const { return end_reason_; }
  uint32_t bodyWritesInFlight() const { return body_writes_in_flight_; }
  // The session runs over TLS (onTlsEstablished came).
  bool secured() const { return secured_; }

 private:
  // The reply each command sent waits for, in order.
  enum class Expect : uint8_t { kGreeting, kEhlo, kHelo, kStartTls, kRset, kMail, kRcpt, kData, kDataEnd, kBdat, kQuit };
  struct Command {
    std::string text;
    Expect expect;
  };
  struct Transaction {
    const OutgoingMessage* message = nullptr;
    TransactionDone done;
    SmtpTransactionReplies replies;
    std::vector<Command> unsent;  // lock-step: commands still to send, last one first
    size_t next_rcpt = 0;         // recipient the next RCPT reply belongs to
    bool ignore_end_reply = false;  // a lone "." after DATA with no recipient (RFC 2920 section 3.1)
    bool decided_locally = false;   // refused before sending (size, unsafe address)
    bool content_sent = false;      // DATA: 354 came and the content went out; BDAT: it went out
    // Pipelined BDAT: the command and body wait for the RCPT replies, so that a message no
    // recipient was accepted for never goes out (RFC 3030 section 2 leaves that to the client).
    std::string held_bdat;
    std::string group;              // pipelined commands not yet on the wire
    std::vector<Expect> group_expects;
  };

  static TimeoutPhase phaseOf(Expect expect);
  void onReply(SmtpReply& reply);
  // The opening, in smtp_client_opening.cc: greeting, EHLO or HELO, STARTTLS, EHLO again.
  void onHelloReply(Expect expect, SmtpReply& reply);
  void afterHello();
  void onStartTlsReply(SmtpReply& reply);
  void startTlsNow(std::string_view unread);
  void onOpeningTimeout();
  void onTransactionReply(Expect expect, SmtpReply& reply);
  bool onDataReply(Transaction& tx, SmtpReply& reply);
  void onRecipientsDecided(Transaction& tx);
  void continueLockStep(Transaction& tx);
  bool refusedLocally(Transaction& tx, const OutgoingMessage& message);
  std::vector<Command> commandsFor(const OutgoingMessage& message, bool bdat) const;
  void becomeReady();
  void sendCommand(std::string text, Expect expect);
  void sendNextStep();
  SmtpClientWrite& openWrite();
  void appendText(std::string text);
  void appendBody(const OutgoingMessage& message);
  void appendDataContent(bool with_content);
  void releaseGroup(Transaction& tx, bool after_end_of_data);
  void flush();
  bool pipelining() const;
  bool anyRecipientAccepted(const Transaction& tx) const;
  void rearmForReply();
  void finishTransaction();
  void closeQuietly();

  const SmtpClientSettings& settings_;
  Transport& transport_;
  State state_ = State::kConnecting;
  SmtpReplyParser parser_;
  std::deque<Expect> expected_;
  std::deque<Transaction> txs_;  // in flight, oldest first: replies come in this order
  std::unique_ptr<SmtpClientWrite> open_write_;
  bool corked_ = false;
  uint32_t body_writes_in_flight_ = 0;
  ServerCapabilities caps_;
  SmtpReply greeting_;
  uint32_t transactions_ = 0;
  uint32_t completed_ = 0;
  End end_ = End::kQuit;
  std::string end_reason_;
  StartTls start_tls_ = StartTls::kNever;
  bool tls_starting_ = false;  // 220 to STARTTLS read: the next bytes belong to the handshake
  bool handshaking_ = false;   // startTls() called, onTlsEstablished() not yet
  bool secured_ = false;
};

}  // namespace lbmail::smtp
