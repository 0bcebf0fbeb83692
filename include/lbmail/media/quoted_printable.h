// Quoted-printable (RFC 2045 section 6.7) written piece by piece with the column carried
// across pieces, so a message's text can be built from pre-encoded literals and per-recipient
// values. Every line stays within 76 characters, and no line starts with '.', so the result
// needs no dot-stuffing for DATA.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lbmail::media {

constexpr size_t kQpMaxColumn = 75;  // characters before a soft break's '=' (76 in all)

// A literal encoded once, starting at column 0, with what placeEncoded needs to place it.
struct EncodedLiteral {
  std::string text;
  size_t first_line = 0;
  bool has_break = false;
  size_t last_line = 0;
};

class QuotedPrintableWriter {
 public:
  explicit QuotedPrintableWriter(std::string& out, size_t column = 0) : out_(out), column_(column) {}

  // Encodes text. LF or CRLF become hard line breaks; a lone CR, controls, '=' and octets
  // above 127 are escaped; blanks at the end of text or of a line are escaped too, so the
  // next piece may start with a line break. With html_escape, < > & " ' become entities.
  void write(std::string_view text, bool html_escape = false);

  // Makes room for a pre-encoded literal the caller appends (or sends as a slice) right
  // after: starts a new line when its first line would not fit, and moves the column past it.
  void placeEncoded(const EncodedLiteral& lit);

  size_t column() const { return column_; }

 private:
  void softBreakFor(size_t n);
  void escaped(unsigned char c);

  std::string& out_;
  size_t column_;
};

// Literals are the campaign author's own markup or text: never HTML-escaped.
EncodedLiteral encodeLiteral(std::string_view text);

}  // namespace lbmail::media
