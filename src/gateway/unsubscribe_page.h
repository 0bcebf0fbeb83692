// What the one-click unsubscribe endpoint reads and writes, apart from its I/O: the token in
// the path, whether a POST body is the RFC 8058 one-click request, and the small pages.
#pragma once

#include <string>
#include <string_view>

namespace lbmail::unsubscribe {

// The last segment of path ("<any path>/<token>"); "" when the path ends in '/'.
std::string_view tokenOf(std::string_view path);

// Whether a form body holds the pair List-Unsubscribe=One-Click: urlencoded
// (application/x-www-form-urlencoded, also assumed without a Content-Type) or multipart/form-data,
// the two encodings RFC 8058 section 3.1 allows.
bool isOneClick(std::string_view content_type, std::string_view body);

// For HTML text and attribute values.
std::string htmlEscape(std::string_view text);

// The GET page: a form that POSTs to the same URL (the token as a relative action) with one
// button. Nothing is recorded until the button is pressed (RFC 8058 section 3.2: scanners
// follow GET links).
std::string confirmationPage(std::string_view token);
// After the form's POST.
std::string donePage();
// For a forged, expired or malformed token, and for a path without one.
std::string invalidPage();

}  // namespace lbmail::unsubscribe
