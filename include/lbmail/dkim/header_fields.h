// The header section of a message laid out as slices: its fields and where the body begins.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail::dkim {

struct HeaderField {
  std::string_view name;  // as written, without WSP before the colon; a view into text
  std::string_view text;  // "Name: value" with its folding, without the final CRLF; into HeaderFields
};

// The header section ends at the first empty line (RFC 5322 2.1) and may span slices; it is
// small, so it is copied once and the fields are views into that copy. A message without an
// empty line is all header with an empty body.
class HeaderFields {
 public:
  explicit HeaderFields(std::span<const std::string_view> slices);
  HeaderFields(const HeaderFields&) = delete;
  HeaderFields& operator=(const HeaderFields&) = delete;

  const std::vector<HeaderField>& fields() const { return fields_; }
  // The body's first byte: slices[bodySlice()] at bodyOffset(); bodySlice() == slices.size()
  // when the body is empty.
  size_t bodySlice() const { return body_slice_; }
  size_t bodyOffset() const { return body_offset_; }

 private:
  void findEnd(std::span<const std::string_view> slices);
  void split();

  std::string header_;
  std::vector<HeaderField> fields_;
  size_t body_slice_ = 0;
  size_t body_offset_ = 0;
};

}  // namespace lbmail::dkim
