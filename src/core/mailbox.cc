// RFC 5321 section 4.1.2 Mailbox grammar, checked octet by octet without allocating.
#include "lbmail/core/mailbox.h"

namespace lbmail {
namespace {

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// atext of RFC 5322 section 3.2.3.
bool isAtext(char c) {
  if (isAlpha(c) || isDigit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~': return true;
    default: return false;
  }
}

const char* dotStringError(std::string_view s) {
  if (s.empty()) return "empty local part";
  if (s.front() == '.' || s.back() == '.') return "local part starts or ends with '.'";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (s[i + 1] == '.') return "'..' in local part";
    } else if (!isAtext(c)) {
      return "character not allowed in local part";
    }
  }
  return nullptr;
}

// Quoted-string = DQUOTE *(qtextSMTP / quoted-pairSMTP) DQUOTE; printable ASCII only. '<' and
// '>' are qtextSMTP, but a receiver that ends the path at the first '>' would read another
// address from "<\"a>b\"@x>": they are refused, here and so at import and in every envelope.
const char* quotedStringError(std::string_view s) {
  if (s.size() < 2 || s.back() != '"') return "unterminated quoted local part";
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (i + 2 >= s.size()) return "unterminated quoted local part";
      c = s[++i];
    } else if (c == '"') {
      return "unescaped '\"' in quoted local part";
    }
    if (c < 32 || c > 126) return "control or non-ASCII character in local part";
    if (c == '<' || c == '>') return "'<' or '>' in quoted local part (receivers misread the path)";
  }
  return nullptr;
}

const char* domainError(std::string_view d) {
  if (d.empty()) return "empty domain";
  if (d.size() > kMaxDomainOctets) return "domain longer than 255 octets";
  if (d.front() == '[') {
    // address-literal: "[" (IPv4 / "IPv6:" ...) "]"; only its shape is checked here.
    if (d.back() != ']' || d.size() < 3) return "unterminated address literal";
    for (char c : d.substr(1, d.size() - 2)) {
      if (!(isDigit(c) || isAlpha(c) || c == '.' || c == ':')) return "bad character in address literal";
    }
    return nullptr;
  }
  size_t label = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      if (label == 0) return "empty domain label";
      if (d[i - 1] == '-') return "domain label ends with '-'";
      label = 0;
      continue;
    }
    char c = d[i];
    if (!(isAlpha(c) || isDigit(c) || c == '-')) return "character not allowed in domain";
    if (label == 0 && c == '-') return "domain label starts with '-'";
    if (++label > 63) return "domain label longer than 63 octets";
  }
  return nullptr;
}

}  // namespace

const char* mailboxError(std::string_view text) {
  if (text.empty()) return "empty address";
  if (text.size() > kMaxMailboxOctets) return "address longer than 254 octets";
  size_t at = text.rfind('@');
  if (at == std::string_view::npos) return "no '@'";
  std::string_view local = text.substr(0, at);
  if (local.size() > kMaxLocalPartOctets) return "local part longer than 64 octets";
  const char* err = !local.empty() && local.front() == '"' ? quotedStringError(local) : dotStringError(local);
  return err ? err : domainError(text.substr(at + 1));
}

std::string_view mailboxDomain(std::string_view mailbox) {
  size_t at = mailbox.rfind('@');
  return at == std::string_view::npos ? std::string_view() : mailbox.substr(at + 1);
}

}  // namespace lbmail
