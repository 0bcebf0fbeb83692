// Quoted-printable encoding with a carried column, for the text and HTML parts of a message.
#include "lbmail/media/quoted_printable.h"

#include <array>

namespace lbmail::media {
namespace {

// Octets that may stand for themselves anywhere but at the start of a line ('.') or before a
// line break (blanks): printable ASCII except '='.
constexpr std::array<bool, 256> makePlainTable() {
  std::array<bool, 256> t{};
  for (int c = 33; c <= 126; ++c) t[c] = c != '=';
  return t;
}
constexpr std::array<bool, 256> kPlain = makePlainTable();

const char* htmlEntity(char c) {
  switch (c) {
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '&': return "&amp;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return nullptr;
  }
}

}  // namespace

void QuotedPrintableWriter::softBreakFor(size_t n) {
  if (column_ + n > kQpMaxColumn) {
    out_.append("=\r\n", 3);
    column_ = 0;
  }
}

void QuotedPrintableWriter::escaped(unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  softBreakFor(3);
  char e[3] = {'=', kHex[c >> 4], kHex[c & 15]};
  out_.append(e, 3);
  column_ += 3;
}

void QuotedPrintableWriter::write(std::string_view text, bool html_escape) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (html_escape) {
      if (const char* entity = htmlEntity(static_cast<char>(c))) {
        for (const char* p = entity; *p; ++p) {
          softBreakFor(1);
          out_.push_back(*p);
          ++column_;
        }
        ++i;
        continue;
      }
    }
    if (kPlain[c] && c != '.') {
      // A run of plain octets goes in with one append per line.
      size_t end = i + 1;
      while (end < text.size() && kPlain[static_cast<unsigned char>(text[end])] &&
             !(html_escape && htmlEntity(text[end]))) {
        ++end;
      }
      while (i < end) {
        softBreakFor(1);
        size_t n = std::min(end - i, kQpMaxColumn - column_);
        out_.append(text.data() + i, n);
        column_ += n;
        i += n;
        // A run may only go on after a soft break with a '.' if it is escaped: fall back to
        // the per-octet path for it.
        if (i < end && text[i] == '.' && column_ + 1 > kQpMaxColumn) break;
      }
      continue;
    }
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      out_.append("\r\n", 2);
      column_ = 0;
      i += c == '\r' ? 2 : 1;
      continue;
    }
    if (c == ' ' || c == '\t') {
      bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
      if (at_line_end) {
        escaped(c);
      } else {
        softBreakFor(1);
        out_.push_back(static_cast<char>(c));
        ++column_;
      }
      ++i;
      continue;
    }
    if (c == '.') {
      softBreakFor(1);
      if (column_ == 0) {
        escaped(c);  // RFC 5321 section 4.5.2: a line must not start with '.' unstuffed
      } else {
        out_.push_back('.');
        ++column_;
      }
      ++i;
      continue;
    }
    escaped(c);
    ++i;
  }
}

void QuotedPrintableWriter::placeEncoded(const EncodedLiteral& lit) {
  if (column_ > 0 && column_ + lit.first_line > kQpMaxColumn) {
    out_.append("=\r\n", 3);
    column_ = 0;
  }
  column_ = lit.has_break ? lit.last_line : column_ + lit.text.size();
}

EncodedLiteral encodeLiteral(std::string_view text) {
  EncodedLiteral lit;
  QuotedPrintableWriter w(lit.text);
  w.write(text);
  size_t first_eol = lit.text.find("\r\n");
  lit.has_break = first_eol != std::string::npos;
  if (!lit.has_break) {
    lit.first_line = lit.text.size();
    return lit;
  }
  lit.first_line = first_eol;
  if (first_eol > 0 && lit.text[first_eol - 1] == '=') --lit.first_line;  // a soft break's '='
  lit.last_line = lit.text.size() - (lit.text.rfind("\r\n") + 2);
  return lit;
}

}  // namespace lbmail::media
