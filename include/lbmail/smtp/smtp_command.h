// SMTP command lines (RFC 5321 §4.1) parsed into verb and arguments: a pure function over one
// line, giving views into it.
#pragma once

#include <cstdint>
#include <string_view>

#include "lbmail/core/expected.h"

namespace lbmail::smtp {

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets including CRLF.
constexpr size_t kMaxCommandLine = 512;

enum class SmtpVerb { kEhlo, kHelo, kMail, kRcpt, kData, kBdat, kRset, kNoop, kQuit, kVrfy, kHelp, kStartTls };

struct SmtpCommand {
  SmtpVerb verb = SmtpVerb::kNoop;
  std::string_view argument;  // everything after the verb and one space, as sent
  std::string_view path;      // MAIL/RCPT: the address inside <>, possibly empty ("<>")
  std::string_view params;    // MAIL/RCPT: ESMTP parameters after the path (e.g. "SIZE=1000 BODY=8BITMIME")
  uint64_t chunk_size = 0;    // BDAT
  bool last_chunk = false;    // BDAT ... LAST
};

// A reply for a line that is not a command we take: code, enhanced status code, text.
struct SmtpCommandError {
  int code;
  const char* enhanced;
  const char* text;
};

// Parses one command line without its CRLF. Verbs are case-insensitive (§2.4).
Expected<SmtpCommand, SmtpCommandError> parseSmtpCommand(std::string_view line);

// The value of an ESMTP parameter such as SIZE in params ("SIZE=123 BODY=8BITMIME"), or empty.
std::string_view smtpParam(std::string_view params, std::string_view name);

}  // namespace lbmail::smtp
