// DKIM canonicalization names and header canonicalization (RFC 6376 3.4.1, 3.4.2).
#pragma once

#include <string>
#include <string_view>

namespace lbmail::dkim {

enum class Canonicalization { kSimple, kRelaxed };

// "simple" or "relaxed".
std::string_view canonicalizationName(Canonicalization c);

// field: one header field, "Name: value" with any folding, without its final CRLF. Appends its
// canonical form followed by CRLF: unchanged for simple (3.4.1); for relaxed (3.4.2) the name
// lowercased, the value unfolded, WSP runs made one SP, WSP around the colon and at the end gone.
void appendCanonicalHeader(std::string& out, std::string_view field, Canonicalization c);

}  // namespace lbmail::dkim
