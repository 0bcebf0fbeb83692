// The DNS side of a DKIM key: names that may appear as d= and s=, and the TXT record that
// publishes the public key (RFC 6376 section 3.6.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail::dkim {

class DkimKey;

// A domain or selector as d= and s= carry it, in lowercase (DNS names compare
// case-insensitively, RFC 4343): the resolver's own check (dns::normalizeDomain: labels of
// letters, digits, '-' and '_', none empty or over 63 octets, at most 253), and no trailing dot,
// which a tag value does not carry. Refusing anything else keeps ';' and spaces out of the
// signature header. nullopt when name is not such a name.
std::optional<std::string> signingName(std::string_view name);

// The record text as DNS character-strings of at most 255 octets each (RFC 1035 3.3): the tags
// before p= in one, then the base64 key in 255-octet pieces. Verifiers join them (RFC 6376 3.6.2.2).
std::vector<std::string> txtCharacterStrings(std::string_view record_text);

// S._domainkey.D. IN TXT ( "v=DKIM1; k=rsa; " "p=..." ... ), for a zone file.
std::string zoneFileRecord(const DkimKey& key);

}  // namespace lbmail::dkim
