// RFC 5321 mailbox syntax and length limits: the one check every address passes before it goes
// into an envelope or a header, so nothing in it can inject a command or a header line.
#pragma once

#include <string_view>

namespace lbmail {

constexpr size_t kMaxLocalPartOctets = 64;  // RFC 5321 section 4.5.3.1.1
constexpr size_t kMaxDomainOctets = 255;    // RFC 5321 section 4.5.3.1.2
constexpr size_t kMaxMailboxOctets = 254;   // a 256-octet path less its "<" and ">"

// Null when text is a valid Mailbox (Local-part "@" Domain or address-literal, ASCII only);
// otherwise a short reason such as "no '@'" or "domain label longer than 63 octets".
const char* mailboxError(std::string_view text);

inline bool validMailbox(std::string_view text) { return mailboxError(text) == nullptr; }

// The part after the last '@' (empty when there is none).
std::string_view mailboxDomain(std::string_view mailbox);

}  // namespace lbmail
