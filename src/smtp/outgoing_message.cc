// Envelope paths that are safe to put in a command.
#include "lbmail/smtp/outgoing_message.h"

#include "lbmail/core/mailbox.h"

namespace lbmail::smtp {

bool safeSmtpPath(std::string_view text) {
  if (text.size() > 256) return false;
  // A Quoted-string local part may hold blanks (RFC 5321 section 4.1.2); the whole must then be
  // a valid Mailbox: printable ASCII, quotes and escapes balanced, no '<' or '>'.
  if (!text.empty() && text.front() == '"') return validMailbox(text);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

}  // namespace lbmail::smtp
