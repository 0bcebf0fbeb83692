// The DNS side of a DKIM key: names that may appear as d= and s=, and the TXT record that
// publishes the public key (RFC 6376 section 3.6.2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lbmail::dkim {

class DkimKey;

// A domain or selector as d= and s= carry it: dot-separated labels of letters, digits, '-' and
// '_' (RFC 6376 3.5), no empty label, at most 253 octets. Refusing anything else keeps ';' and
// spaces out of the signature header.
bool isDnsName(std::string_view name);

// name in lowercase ASCII: DNS names compare case-insensitively (RFC 4343).
std::string lowercaseName(std::string_view name);

// The record text as DNS character-strings of at most 255 octets each (RFC 1035 3.3): the tags
// before p= in one, then the base64 key in 255-octet pieces. Verifiers join them (RFC 6376 3.6.2.2).
std::vector<std::string> txtCharacterStrings(std::string_view record_text);

// S._domainkey.D. IN TXT ( "v=DKIM1; k=rsa; " "p=..." ... ), for a zone file.
std::string zoneFileRecord(const DkimKey& key);

}  // namespace lbmail::dkim
