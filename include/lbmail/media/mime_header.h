// Header fields as RFC 5322, RFC 2047 and RFC 2231 want them: encoded words for non-ASCII
// text, quoted display names, encoded file names, lines never longer than 998 octets.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace lbmail::media {

constexpr size_t kMaxHeaderLineOctets = 998;  // RFC 5322 section 2.1.1, CRLF not counted

// True for well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool validUtf8(std::string_view text);

// Appends "Name: value\r\n" for unstructured text (Subject): as is when it is printable ASCII
// and fits one line, otherwise as RFC 2047 encoded words, one per folded line. value must be
// valid UTF-8 without CR, LF or NUL.
void appendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value);

// "Name: display <addr>\r\n" (or "Name: addr\r\n"), the display name quoted or encoded as it
// needs. addr must be a valid mailbox.
std::string formatAddressHeader(std::string_view name, std::string_view display, std::string_view addr);

// Splits "Display Name <addr>" or "addr" into its parts, a quoted display name unquoted; false
// when the shape is wrong.
bool splitNameAddr(std::string_view text, std::string& display, std::string_view& addr);

// "Content-Disposition: <disposition>; filename=..." with RFC 2231 encoding for a name that
// is not plain printable ASCII.
std::string formatDisposition(std::string_view disposition, std::string_view filename);

// "Date: Wed, 02 Dec 2026 02:16:30 +0000\r\n" (RFC 5322 section 3.3), in UTC.
std::string formatDateHeader(std::time_t t);

}  // namespace lbmail::media
