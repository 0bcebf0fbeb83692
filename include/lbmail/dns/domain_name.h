// The one spelling of a mail domain the resolver works with: lower case, no trailing dot,
// checked to be a host name that DNS can carry.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lbmail::dns {

// "Example.COM." -> "example.com". nullopt for an empty name, an empty label, a label over 63
// bytes, a name over 253 bytes, or a byte other than a letter, digit, '-' or '_' (IDNs arrive
// as A-labels, "xn--..."). The check also keeps c-ares' escape syntax out of queries.
std::optional<std::string> normalizeDomain(std::string_view text);

}  // namespace lbmail::dns
