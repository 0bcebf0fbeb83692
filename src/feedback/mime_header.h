// Header fields and Content-Type of a MIME entity (RFC 5322 section 2.2, RFC 2045 section 5):
// what the feedback readers need of them, over received bytes with CRLF or bare LF line ends.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lbmail::feedback {

// Reads text line by line; a line is returned without its CRLF or LF.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}
  bool next(std::string_view& line);
  size_t offset() const { return pos_; }  // where the next line starts

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Whether a line holds only white space: it ends a header block or a DSN field group.
bool blankLine(std::string_view line);

struct HeaderField {
  std::string name;
  std::string value;  // unfolded (each fold one space) and trimmed
};

class HeaderFields {
 public:
  // The fields of text up to its first blank line (or all of it). Lines that are neither a
  // field nor a continuation (an mbox "From " line) are skipped.
  static HeaderFields parse(std::string_view text);

  // The value of the first field of that name (any case), or nullptr.
  const std::string* find(std::string_view name) const;
  const std::vector<HeaderField>& fields() const { return fields_; }

 private:
  std::vector<HeaderField> fields_;
};

struct ContentType {
  std::string type = "text";  // lowercase
  std::string subtype = "plain";
  std::vector<std::pair<std::string, std::string>> params;  // names lowercase, values unquoted

  bool is(std::string_view t, std::string_view s) const { return type == t && subtype == s; }
  // The parameter's value, or "" when absent.
  std::string_view param(std::string_view name) const;
};

// A Content-Type value: type "/" subtype *(";" name "=" (token / quoted-string)). A value that
// cannot be read leaves the RFC 2045 section 5.2 default, text/plain.
ContentType parseContentType(std::string_view value);

struct EntityText {
  std::string_view header;
  std::string_view body;
};

// Splits an entity at the first blank line.
EntityText splitEntity(std::string_view text);

}  // namespace lbmail::feedback
