// What a server said it supports in its EHLO reply (RFC 5321 section 4.1.1.1, with the
// extensions the client uses: PIPELINING, CHUNKING, ENHANCEDSTATUSCODES, SIZE, STARTTLS).
#pragma once

#include <cstdint>

#include "lbmail/smtp/smtp_reply.h"

namespace lbmail::smtp {

struct ServerCapabilities {
  bool esmtp = false;
  bool pipelining = false;
  bool chunking = false;
  bool enhanced_status_codes = false;
  bool size_declared = false;  // SIZE, with or without a limit (RFC 1870)
  uint64_t size_limit = 0;     // 0 when none declared
  bool starttls = false;       // RFC 3207
};

// Parses an EHLO reply's lines after the first (RFC 5321 section 4.1.1.1).
ServerCapabilities parseCapabilities(const SmtpReply& ehlo);

}  // namespace lbmail::smtp
