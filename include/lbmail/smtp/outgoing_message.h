// One message handed to the SMTP client: envelope plus body as slices of memory the caller
// owns (per-message buffers and mmapped media); the client writes them with writev, never copies.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail::smtp {

struct OutgoingMessage {
  std::string mail_from;                // reverse-path without <>; empty for the null sender
  std::vector<std::string> recipients;  // forward-paths without <>
  // The RFC 5322 message in CRLF lines, not dot-stuffed: the client stuffs for DATA on the fly
  // (by splitting slices, not by copying) and sends it as is with BDAT.
  std::vector<std::string_view> body;
  // Keeps the body's bytes alive until the client's last write of them has completed.
  std::shared_ptr<const void> owner;
  // The producer guarantees that no line starts with '.', so DATA needs no stuffing scan
  // (message assembly encodes such lines).
  bool no_leading_dots = false;

  size_t bodySize() const {
    size_t n = 0;
    for (std::string_view s : body) n += s.size();
    return n;
  }
};

// True when text may go between <> in MAIL or RCPT: no control characters, blanks, '<' or '>',
// at most 256 octets (RFC 5321 section 4.5.3.1.3); blanks only inside a Quoted-string local
// part of a valid Mailbox ("quoted local"@example.com). Anything else could inject a command.
bool safeSmtpPath(std::string_view text);

}  // namespace lbmail::smtp
