// SMTP command parsing.
#include "lbmail/smtp/smtp_command.h"

#include <array>
#include <charconv>

namespace lbmail::smtp {
namespace {

struct VerbName {
  std::string_view name;
  SmtpVerb verb;
};

constexpr std::array<VerbName, 12> kVerbs{{
    {"EHLO", SmtpVerb::kEhlo},
    {"HELO", SmtpVerb::kHelo},
    {"MAIL", SmtpVerb::kMail},
    {"RCPT", SmtpVerb::kRcpt},
    {"DATA", SmtpVerb::kData},
    {"BDAT", SmtpVerb::kBdat},
    {"RSET", SmtpVerb::kRset},
    {"NOOP", SmtpVerb::kNoop},
    {"QUIT", SmtpVerb::kQuit},
    {"VRFY", SmtpVerb::kVrfy},
    {"HELP", SmtpVerb::kHelp},
    {"STARTTLS", SmtpVerb::kStartTls},
}};

constexpr SmtpCommandError kSyntax{500, "5.5.2", "Syntax error, command unrecognized"};
constexpr SmtpCommandError kBadArguments{501, "5.5.4", "Syntax error in parameters or arguments"};

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

// The '>' that ends the path "<...>" at the start of rest, past any Quoted-string local part
// (RFC 5321 section 4.1.2: "\"quoted local\"@example.com"), where a '\\' escapes the next
// character; npos when there is none.
size_t pathEnd(std::string_view rest) {
  bool quoted = false;
  for (size_t i = 1; i < rest.size(); ++i) {
    if (quoted && rest[i] == '\\') {
      ++i;
    } else if (rest[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && rest[i] == '>') {
      return i;
    }
  }
  return std::string_view::npos;
}

// "FROM:<a@b> SIZE=1" after MAIL, "TO:<a@b>" after RCPT. A space after the colon is tolerated,
// as most servers do.
bool parsePath(std::string_view arg, std::string_view keyword, SmtpCommand& out) {
  if (arg.size() < keyword.size() || !equalsIgnoreCase(arg.substr(0, keyword.size()), keyword)) return false;
  std::string_view rest = arg.substr(keyword.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() != '<') return false;
  size_t close = pathEnd(rest);
  if (close == std::string_view::npos) return false;
  out.path = rest.substr(1, close - 1);
  // A path never holds control characters or another '<', nor blanks outside a Quoted-string.
  auto bad = [](char c) { return static_cast<unsigned char>(c) < ' ' || c == '<' || c == 0x7f; };
  bool quoted = false;
  for (size_t i = 0; i < out.path.size(); ++i) {
    char c = out.path[i];
    if (bad(c) || (c == ' ' && !quoted)) return false;
    if (c == '"') {
      quoted = !quoted;
    } else if (quoted && c == '\\' && i + 1 < out.path.size() && bad(out.path[++i])) {
      return false;
    }
  }
  rest = rest.substr(close + 1);
  if (!rest.empty() && rest.front() != ' ') return false;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  out.params = rest;
  return true;
}

bool parseBdat(std::string_view arg, SmtpCommand& out) {
  size_t space = arg.find(' ');
  std::string_view size = arg.substr(0, space);
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), out.chunk_size);
  if (size.empty() || ec != std::errc() || end != size.data() + size.size()) return false;
  if (space == std::string_view::npos) return true;
  std::string_view rest = arg.substr(space + 1);
  if (!equalsIgnoreCase(rest, "LAST")) return false;
  out.last_chunk = true;
  return true;
}

}  // namespace

Expected<SmtpCommand, SmtpCommandError> parseSmtpCommand(std::string_view line) {
  for (char c : line) {
    if (c == '\0' || c == '\r' || c == '\n') return unexpected(kSyntax);
  }
  size_t space = line.find(' ');
  std::string_view verb = line.substr(0, space);
  SmtpCommand cmd;
  cmd.argument = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  const VerbName* found = nullptr;
  for (const VerbName& v : kVerbs) {
    if (equalsIgnoreCase(verb, v.name)) found = &v;
  }
  if (!found) return unexpected(kSyntax);
  cmd.verb = found->verb;
  switch (cmd.verb) {
    case SmtpVerb::kEhlo:
    case SmtpVerb::kHelo:
      if (cmd.argument.empty()) return unexpected(kBadArguments);
      break;
    case SmtpVerb::kMail:
      if (!parsePath(cmd.argument, "FROM:", cmd)) return unexpected(kBadArguments);
      break;
    case SmtpVerb::kRcpt:
      if (!parsePath(cmd.argument, "TO:", cmd) || cmd.path.empty()) return unexpected(kBadArguments);
      break;
    case SmtpVerb::kBdat:
      if (!parseBdat(cmd.argument, cmd)) return unexpected(kBadArguments);
      break;
    case SmtpVerb::kData:
    case SmtpVerb::kRset:
    case SmtpVerb::kQuit:
    case SmtpVerb::kStartTls:  // RFC 3207 section 4: "501 Syntax error (no parameters allowed)"
      if (!cmd.argument.empty()) return unexpected(kBadArguments);
      break;
    case SmtpVerb::kNoop:
    case SmtpVerb::kVrfy:
    case SmtpVerb::kHelp:
      break;
  }
  return cmd;
}

std::string_view smtpParam(std::string_view params, std::string_view name) {
  while (!params.empty()) {
    size_t space = params.find(' ');
    std::string_view p = params.substr(0, space);
    size_t eq = p.find('=');
    if (equalsIgnoreCase(p.substr(0, eq), name)) return eq == std::string_view::npos ? std::string_view() : p.substr(eq + 1);
    if (space == std::string_view::npos) break;
    params = params.substr(space + 1);
  }
  return {};
}

}  // namespace lbmail::smtp
