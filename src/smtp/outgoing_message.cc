// Envelope paths that are safe to put in a command.
#include "lbmail/smtp/outgoing_message.h"

namespace lbmail::smtp {

bool safeSmtpPath(std::string_view text) {
  if (text.size() > 256) return false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 0x7f || c == '<' || c == '>') return false;
  }
  return true;
}

}  // namespace lbmail::smtp
