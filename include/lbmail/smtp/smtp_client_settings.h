// How the SMTP client behaves: its HELO name, which extensions it uses, and its timeout for each
// phase of a session (RFC 5321 section 4.5.3.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lbmail/core/units.h"

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
  // The TLS handshake after STARTTLS (Postfix's smtp_starttls_timeout).
  Duration starttls_timeout = std::chrono::minutes(5);
  bool pipelining = true;                            // used when the server advertises it
  bool chunking = true;                              // BDAT when the server advertises CHUNKING
  // With PIPELINING and CHUNKING, whole transactions follow each other without waiting for
  // replies, up to this many on the wire at once (RFC 2920 section 3.1 allows it).
  size_t max_pipelined_transactions = 16;
};

// What the client waits for, each with its own timer (RFC 5321 section 4.5.3.2).
enum class TimeoutPhase : uint8_t {
  kNow,         // something decided locally is reported from the loop, at once
  kGreeting,    // 4.5.3.2.1
  kMail,        // 4.5.3.2.2, also EHLO, HELO and RSET
  kRcpt,        // 4.5.3.2.3
  kDataInit,    // 4.5.3.2.4
  kDataBlock,   // 4.5.3.2.5: body bytes still going out
  kDataEnd,     // 4.5.3.2.6, also BDAT LAST (RFC 3030)
  kQuit,        // the server's 221; we do not wait long for it
  kIdle,        // ready without work: QUIT when it runs out
  kStartTls,    // the TLS handshake after the 220 to STARTTLS (RFC 3207)
};

Duration timeoutOf(TimeoutPhase phase, const SmtpClientSettings& settings);

}  // namespace lbmail::smtp
