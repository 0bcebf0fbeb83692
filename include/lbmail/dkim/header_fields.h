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
// empty line is all header with an empty body. A header section over kMaxHeaderSectionOctets
// is not copied: tooLarge(), no fields and an empty body.
class HeaderFields {
 public:
  // The header section (its fields with their CRLFs) may hold at most this many octets:
  // RFC 5322 sets no limit, so this bounds the copy; real header sections are a few KB.
  static constexpr size_t kMaxHeaderSectionOctets = 1024 * 1024;

  explicit HeaderFields(std::span<const std::string_view> slices);
  HeaderFields(const HeaderFields&) = delete;
  HeaderFields& operator=(const HeaderFields&) = delete;

  const std::vector<HeaderField>& fields() const { return fields_; }
  // The body's first byte: slices[bodySlice()] at bodyOffset(); bodySlice() == slices.size()
  // when the body is empty.
  size_t bodySlice() const { return body_slice_; }
  size_t bodyOffset() const { return body_offset_; }
  bool tooLarge() const { return too_large_; }

 private:
  void findEnd(std::span<const std::string_view> slices);
  void split();

  std::string header_;
  std::vector<HeaderField> fields_;
  size_t body_slice_ = 0;
  size_t body_offset_ = 0;
  bool too_large_ = false;
};

}  // namespace lbmail::dkim
