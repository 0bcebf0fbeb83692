// DATA transparency (RFC 5321 section 4.5.2) without copying: a body's slices become writev
// slices, split before each line-leading '.', with an extra "." slice inserted there.
#pragma once

#include <string_view>
#include <vector>

namespace lbmail::smtp {

// Appends body as DATA content to out, followed by the end-of-data marker: a line-leading '.'
// gets another '.', a body not ending in CRLF gets one, then ".\r\n". When scan is false the
// caller vouches that no line starts with '.', and the slices go out unsplit. The slices point
// into body or into static memory.
void appendDataContent(const std::vector<std::string_view>& body, bool scan, std::vector<std::string_view>& out);

}  // namespace lbmail::smtp
