// Header fields and Content-Type parameters of MIME entities.
#include "mime_header.h"

#include "ascii_text.h"

namespace lbmail::feedback {
namespace {

bool tokenChar(char c) {
  // RFC 2045 section 5.1: any CHAR but SPACE, CTLs and tspecials.
  return static_cast<unsigned char>(c) > 32 && static_cast<unsigned char>(c) < 127 &&
         std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

void skipSpaceAndComments(std::string_view s, size_t& i) {
  while (i < s.size()) {
    if (isWhiteSpace(s[i])) {
      ++i;
    } else if (s[i] == '(') {  // RFC 5322 comment; nesting is rare and not followed
      size_t close = s.find(')', i);
      i = close == std::string_view::npos ? s.size() : close + 1;
    } else {
      return;
    }
  }
}

std::string readToken(std::string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && tokenChar(s[i])) ++i;
  return asciiLowercase(s.substr(start, i - start));
}

// A quoted-string (RFC 5322 section 3.2.4) starting at the quote; an unclosed one runs to the end.
std::string readQuoted(std::string_view s, size_t& i) {
  std::string out;
  for (++i; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
  }
  if (i < s.size()) ++i;
  return out;
}

}  // namespace

bool LineCursor::next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  size_t end = text_.find('\n', pos_);
  size_t stop = end == std::string_view::npos ? text_.size() : end;
  line = text_.substr(pos_, stop - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = end == std::string_view::npos ? text_.size() : end + 1;
  return true;
}

bool blankLine(std::string_view line) { return trimWhiteSpace(line).empty(); }

HeaderFields HeaderFields::parse(std::string_view text) {
  HeaderFields out;
  LineCursor lines(text);
  std::string_view line;
  bool in_field = false;
  while (lines.next(line) && !blankLine(line)) {
    if (line.front() == ' ' || line.front() == '\t') {
      // Unfolding (RFC 5322 section 2.2.3) with the fold's white space as one space: values
      // here are read, never re-signed, and diagnostics read better.
      if (in_field) out.fields_.back().value.append(1, ' ').append(trimWhiteSpace(line));
      continue;
    }
    size_t colon = line.find(':');
    std::string_view name = trimWhiteSpace(line.substr(0, colon));
    // A field name has no white space in it (RFC 5322 section 3.6.8): "From " starts an mbox line.
    in_field = colon != std::string_view::npos && !name.empty() && name.find_first_of(" \t") == std::string_view::npos;
    if (in_field) out.fields_.push_back({std::string(name), std::string(line.substr(colon + 1))});
  }
  for (HeaderField& f : out.fields_) f.value = std::string(trimWhiteSpace(f.value));
  return out;
}

const std::string* HeaderFields::find(std::string_view name) const {
  for (const HeaderField& f : fields_) {
    if (equalsIgnoreCase(f.name, name)) return &f.value;
  }
  return nullptr;
}

std::string_view ContentType::param(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (n == name) return v;
  }
  return {};
}

ContentType parseContentType(std::string_view value) {
  ContentType ct;
  size_t i = 0;
  skipSpaceAndComments(value, i);
  std::string type = readToken(value, i);
  if (i >= value.size() || value[i] != '/' || type.empty()) return ct;
  ++i;
  std::string subtype = readToken(value, i);
  if (subtype.empty()) return ct;
  ct.type = std::move(type);
  ct.subtype = std::move(subtype);
  while (i < value.size()) {
    skipSpaceAndComments(value, i);
    if (i < value.size() && value[i] != ';') {  // junk between parameters: skip to the next
      size_t semi = value.find(';', i);
      i = semi == std::string_view::npos ? value.size() : semi;
    }
    if (i >= value.size()) break;
    ++i;  // the ';'
    skipSpaceAndComments(value, i);
    std::string name = readToken(value, i);
    skipSpaceAndComments(value, i);
    if (name.empty() || i >= value.size() || value[i] != '=') continue;
    ++i;
    skipSpaceAndComments(value, i);
    std::string v = (i < value.size() && value[i] == '"') ? readQuoted(value, i) : [&] {
      size_t start = i;
      while (i < value.size() && tokenChar(value[i])) ++i;
      return std::string(value.substr(start, i - start));
    }();
    ct.params.emplace_back(std::move(name), std::move(v));
  }
  return ct;
}

EntityText splitEntity(std::string_view text) {
  LineCursor lines(text);
  std::string_view line;
  size_t start = 0;
  while (lines.next(line)) {
    if (blankLine(line)) return {text.substr(0, start), text.substr(lines.offset())};
    start = lines.offset();
  }
  return {text, {}};
}

}  // namespace lbmail::feedback
