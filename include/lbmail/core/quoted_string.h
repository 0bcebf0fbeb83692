// Untrusted text written as one double-quoted string on one line: the escaping that JSON
// documents and log lines share.
#pragma once

#include <string>
#include <string_view>

namespace lbmail {

// How the escapes that differ between JSON and log lines are written.
enum class QuoteStyle {
  // RFC 8259 section 7: other control characters as \u00XX; bytes that are not well-formed
  // UTF-8 (RFC 3629) become U+FFFD, so that no text can make a document invalid.
  kJson,
  // key=value log lines: other control characters as \xXX; every other byte as it is.
  kLog,
};

// Appends s between double quotes. Both styles write '"', '\\', LF, CR and TAB as \" \\ \n \r
// \t; the other control characters and DEL as style says.
void appendQuoted(std::string& out, std::string_view s, QuoteStyle style);

}  // namespace lbmail
