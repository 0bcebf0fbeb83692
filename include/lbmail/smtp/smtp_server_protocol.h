// The receiving side of ESMTP as a state machine over bytes: commands (pipelined), DATA with
// dot-unstuffing, BDAT chunks, RFC 5321 limits. No I/O: the caller feeds what it read, sends
// the replies it gets back, and decides recipients and end-of-data through a Policy.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/smtp/smtp_command.h"

namespace lbmail::smtp {

struct ServerReply {
  // Which latency a receiver applies before sending it (see the sink's rules).
  enum class Kind { kGreeting, kCommand, kEndOfData };
  Kind kind = Kind::kCommand;
  int code = 250;
  std::string text;  // one or more lines, each ending in CRLF, already formatted
  bool close_after = false;  // 221 and 421: the connection closes once this is sent
  // The 220 to STARTTLS: once it is sent in plaintext, the owner runs the TLS handshake and
  // calls tlsEstablished (RFC 3207 section 4).
  bool start_tls = false;
};

// What the receiver knows of an accepted or refused message at its end.
struct ReceivedMessage {
  std::string_view helo;
  std::string_view sender;
  const std::vector<std::string>* recipients = nullptr;
  uint64_t size = 0;           // body bytes after dot-unstuffing
  uint64_t body_hash = 0;      // XXH3-64 of those bytes
  std::string_view message_id;  // header values, empty when absent
  std::string_view lbmail_id;  // X-Lbmail-Id
  std::string_view body;       // the whole body, only when the policy asked to keep bodies
};

class SmtpServerProtocol {
 public:
  struct Limits {
    uint64_t max_message_size = 50 * 1024 * 1024;
    size_t max_recipients = 1000;   // RFC 5321 §4.5.3.1.8 asks for at least 100
    size_t max_text_line = 1000;    // §4.5.3.1.6, CRLF included
    size_t max_header_capture = 64 * 1024;  // header bytes kept to find Message-ID
  };

  struct Decision {
    int code;
    std::string enhanced;
    std::string text;
  };

  class Policy {
   public:
    virtual ~Policy() = default;
    // A recipient was given (address checked for syntax): accept with 250 or refuse.
    virtual Decision onRecipient(std::string_view address) = 0;
    // The message is complete: the final reply. Not called for messages already refused for
    // size or line length.
    virtual Decision onMessage(const ReceivedMessage& message) = 0;
    // Called before MAIL is accepted: a non-2xx decision refuses it (e.g. 421 rate limits).
    virtual Decision onMail(std::string_view sender) {
      (void)sender;
      return {250, "2.1.0", "Ok"};
    }
    // Keep whole bodies for ReceivedMessage::body (costs memory up to the size limit).
    virtual bool keepBodies() const { return false; }
    // With keepBodies: may the body being kept grow by bytes? A receiver bounds the memory all
    // its connections keep; on false the message is refused with 452 at its end. Every byte
    // reserved is given back through releaseBody once the body is dropped.
    virtual bool reserveBody(size_t bytes) {
      (void)bytes;
      return true;
    }
    virtual void releaseBody(size_t bytes) { (void)bytes; }
  };

  SmtpServerProtocol(std::string hostname, const Limits& limits, Policy& policy);

  // The 220 greeting, to send first.
  ServerReply greeting() const;
  // Consumes bytes; appends the replies they produce, in order. After a reply with
  // close_after, the rest of the input is ignored.
  void feed(std::string_view bytes, std::vector<ServerReply>& replies);

  // Offers STARTTLS (RFC 3207) in EHLO replies until TLS is up; off by default, and STARTTLS is
  // then refused with 502.
  void offerStartTls(bool offer) { offer_tls_ = offer; }
  // The owner's handshake after the 220 completed. The session starts over (RFC 3207 section
  // 4.2: nothing learnt before TLS is kept, EHLO is required again) and STARTTLS is no longer
  // offered.
  void tlsEstablished();
  bool secured() const { return secured_; }
  // Between the 220 to STARTTLS and tlsEstablished every byte fed is discarded unexecuted:
  // commands pipelined behind STARTTLS came in plaintext and may be an attacker's
  // (CVE-2011-0411). Counts what was discarded so.
  bool awaitingTls() const { return state_ == State::kStartTls; }
  uint64_t bytesDiscardedBeforeTls() const { return discarded_before_tls_; }

  bool closed() const { return state_ == State::kClosed; }
  bool inData() const { return state_ == State::kData || state_ == State::kBdat; }
  uint64_t messagesAccepted() const { return messages_; }
  // Bytes this object holds for the connection (command line, header capture, kept body): a
  // receiver sums them to see and bound its memory.
  size_t bufferedBytes() const { return heapBytes(line_) + heapBytes(headers_) + heapBytes(body_); }

 private:
  enum class State { kCommand, kData, kBdat, kStartTls, kClosed };

  // What a string holds on the heap: nothing while it fits in the object itself.
  static size_t heapBytes(const std::string& s) { return s.capacity() > std::string().capacity() ? s.capacity() : 0; }
  void handleLine(std::string_view line, std::vector<ServerReply>& replies);
  void handleCommand(const SmtpCommand& cmd, std::vector<ServerReply>& replies);
  size_t feedData(std::string_view bytes, std::vector<ServerReply>& replies);
  size_t feedBdat(std::string_view bytes, std::vector<ServerReply>& replies);
  void bodyBytes(std::string_view bytes);
  void keepBodyBytes(std::string_view bytes);
  void dropBody();
  void finishMessage(std::vector<ServerReply>& replies);
  void resetTransaction();
  ServerReply reply(int code, std::string_view enhanced, std::string_view text,
                  ServerReply::Kind kind = ServerReply::Kind::kCommand) const;
  ServerReply ehloReply() const;
  void startTls(std::vector<ServerReply>& replies);

  std::string hostname_;
  Limits limits_;
  Policy& policy_;
  State state_ = State::kCommand;

  std::string line_;  // a command line being assembled across reads (bounded)
  bool line_too_long_ = false;

  // Transaction.
  std::string helo_;
  bool have_sender_ = false;
  std::string sender_;
  std::vector<std::string> recipients_;
  uint64_t bdat_left_ = 0;
  bool bdat_last_ = false;
  bool bdat_refused_ = false;  // chunks still read in full, then refused (RFC 3030 §2)

  // Body of the message being received.
  uint64_t body_size_ = 0;
  bool oversize_ = false;
  bool no_storage_ = false;  // the receiver's memory for kept bodies ran out: 452 at the end
  bool long_line_ = false;
  size_t line_length_ = 0;   // current body line, for the 1000-octet limit
  int dot_state_ = 0;        // DATA end detection and unstuffing, see feedData
  bool after_cr_ = false;    // the last DATA byte was CR: only CR LF ends a line there
  XXH3_state_t* hash_ = nullptr;
  std::string headers_;      // first bytes of the body, to find Message-ID
  bool headers_done_ = false;
  std::string body_;         // only with Policy::keepBodies(); every byte reserved

  uint64_t messages_ = 0;
  int errors_ = 0;  // refused commands in a row

  bool offer_tls_ = false;
  bool secured_ = false;
  uint64_t discarded_before_tls_ = 0;

 public:
  ~SmtpServerProtocol();
  SmtpServerProtocol(const SmtpServerProtocol&) = delete;
  SmtpServerProtocol& operator=(const SmtpServerProtocol&) = delete;
};

}  // namespace lbmail::smtp
