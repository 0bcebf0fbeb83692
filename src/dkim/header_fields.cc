// Finding a message's header fields across slices (RFC 5322 2.1, 2.2.3).
#include "lbmail/dkim/header_fields.h"

namespace lbmail::dkim {

HeaderFields::HeaderFields(std::span<const std::string_view> slices) {
  findEnd(slices);
  split();
}

void HeaderFields::findEnd(std::span<const std::string_view> slices) {
  // How much of "\r\n\r\n" the bytes so far end with; the start counts as just after a CRLF,
  // so a message that opens with CRLF has no header fields.
  static constexpr char kEnd[] = "\r\n\r\n";
  int matched = 2;
  for (size_t i = 0; i < slices.size(); ++i) {
    std::string_view s = slices[i];
    for (size_t j = 0; j < s.size(); ++j) {
      // The section so far (up to here, less the CRLF that may end it) is over the limit.
      if (header_.size() + j > kMaxHeaderSectionOctets + 1) {
        too_large_ = true;
        header_.clear();
        header_.shrink_to_fit();
        break;
      }
      if (s[j] == kEnd[matched]) {
        if (++matched < 4) continue;
        header_.append(s.substr(0, j + 1));
        header_.resize(header_.size() - 2);  // the empty line is the separator, not a field
        body_slice_ = i;
        body_offset_ = j + 1;
        if (body_offset_ == s.size()) {
          ++body_slice_;
          body_offset_ = 0;
        }
        return;
      }
      matched = s[j] == '\r' ? 1 : 0;
    }
    if (too_large_) break;
    header_.append(s);
  }
  body_slice_ = slices.size();
  body_offset_ = 0;
}

void HeaderFields::split() {
  std::string_view h = header_;
  size_t start = 0;
  while (start < h.size()) {
    // A field runs until a CRLF not followed by WSP (folding, RFC 5322 2.2.3).
    size_t end = start;
    for (;;) {
      end = h.find("\r\n", end);
      if (end == std::string_view::npos) {
        end = h.size();
        break;
      }
      if (end + 2 < h.size() && (h[end + 2] == ' ' || h[end + 2] == '\t')) {
        end += 2;
        continue;
      }
      break;
    }
    std::string_view text = h.substr(start, end - start);
    std::string_view name = text.substr(0, text.find(':'));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    fields_.push_back({name, text});
    start = end + 2;
  }
}

}  // namespace lbmail::dkim
