// The one-click unsubscribe endpoint's request reading and pages (no I/O).
#include "unsubscribe_page.h"

#include <strings.h>

#include <cctype>

namespace lbmail::unsubscribe {
namespace {

constexpr std::string_view kKey = "List-Unsubscribe";
constexpr std::string_view kValue = "One-Click";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte; a broken escape
// stays as it is (it can then match nothing we look for).
std::string formDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && hexValue(in[i + 1]) >= 0 && hexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

bool urlencodedHasPair(std::string_view body) {
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && formDecode(pair.substr(0, eq)) == kKey &&
        formDecode(pair.substr(eq + 1)) == kValue) {
      return true;
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return false;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

size_t findNoCase(std::string_view hay, std::string_view needle, size_t from = 0) {
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (strncasecmp(hay.data() + i, needle.data(), needle.size()) == 0) return i;
  }
  return std::string_view::npos;
}

// A parameter of a header value (boundary=..., name=...), quoted or not; "" when absent.
std::string_view paramOf(std::string_view value, std::string_view param) {
  size_t at = 0;
  while ((at = findNoCase(value, param, at)) != std::string_view::npos) {
    bool starts = at == 0 || value[at - 1] == ';' || value[at - 1] == ' ' || value[at - 1] == '\t';
    at += param.size();
    if (!starts || at >= value.size() || value[at] != '=') continue;
    std::string_view rest = value.substr(at + 1);
    if (!rest.empty() && rest[0] == '"') {
      size_t end = rest.find('"', 1);
      return end == std::string_view::npos ? std::string_view() : rest.substr(1, end - 1);
    }
    return rest.substr(0, rest.find_first_of("; \t\r\n"));
  }
  return {};
}

std::string_view trimLineEnd(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// One part of a multipart/form-data body (RFC 7578): headers, a blank line, the value.
bool partIsPair(std::string_view part) {
  if (part.starts_with("\r\n")) part.remove_prefix(2);
  size_t blank = part.find("\r\n\r\n");
  if (blank == std::string_view::npos) return false;
  std::string_view headers = part.substr(0, blank + 2);
  std::string_view value = trimLineEnd(part.substr(blank + 4));
  size_t cd = findNoCase(headers, "content-disposition:");
  if (cd == std::string_view::npos) return false;
  std::string_view line = headers.substr(cd, headers.find("\r\n", cd) - cd);
  return paramOf(line, "name") == kKey && value == kValue;
}

bool multipartHasPair(std::string_view content_type, std::string_view body) {
  std::string_view boundary = paramOf(content_type, "boundary");
  if (boundary.empty()) return false;
  std::string delimiter = "--" + std::string(boundary);
  size_t at = body.find(delimiter);
  while (at != std::string_view::npos) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") break;  // the closing delimiter
    size_t next = body.find(delimiter, at);
    if (next == std::string_view::npos) break;
    if (partIsPair(body.substr(at, next - at))) return true;
    at = next;
  }
  return false;
}

std::string page(std::string_view title, std::string_view body_html) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex\"><title>";
  out.append(title);
  out.append(
      "</title><style>body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}"
      "button{font-size:1.1em;padding:.5em 1.5em}</style></head>\n<body>\n");
  out.append(body_html);
  out.append("</body></html>\n");
  return out;
}

}  // namespace

std::string_view tokenOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool isOneClick(std::string_view content_type, std::string_view body) {
  if (startsWithNoCase(content_type, "multipart/form-data")) return multipartHasPair(content_type, body);
  return urlencodedHasPair(body);
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '"': out.append("&quot;"); break;
      case '\'': out.append("&#39;"); break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string confirmationPage(std::string_view token) {
  std::string form = "<h1>Unsubscribe</h1>\n<p>Press the button to stop receiving these messages.</p>\n"
                     "<form method=\"post\" action=\"./";
  form.append(htmlEscape(token));
  form.append(
      "\"><input type=\"hidden\" name=\"confirm\" value=\"yes\">"
      "<button type=\"submit\">Unsubscribe</button></form>\n");
  return page("Unsubscribe", form);
}

std::string donePage() {
  return page("Unsubscribed", "<h1>You are unsubscribed</h1>\n<p>You will not receive these messages any more.</p>\n");
}

std::string invalidPage() {
  return page("Link not valid", "<h1>This link is not valid</h1>\n<p>It may be incomplete or too old.</p>\n");
}

}  // namespace lbmail::unsubscribe
