// The reply class that a reply's codes alone give, for replies no pattern rule matched:
// RFC 3463's enhanced status code first, then RFC 5321's basic code. Private to src/shaping/.
#pragma once

#include <optional>
#include <string_view>

#include "lbmail/shaping/reply_class.h"

namespace lbmail::shaping {

// The class an enhanced status code ("5.7.1") decides on its own, or nullopt when only the
// basic code can tell (x.2.x, x.3.x other than the final ones, x.6.x, ...). An enhanced code
// whose class digit differs from the basic code's is ignored (RFC 3463 section 2 requires
// them to agree), as is one that is not class.subject.detail.
std::optional<ReplyClass> classFromEnhancedCode(int code, std::string_view enhanced);

// RFC 5321 section 4.2: the basic code of a 4xx or 5xx reply. Any other code is kProtocol.
ReplyClass classFromBasicCode(int code);

}  // namespace lbmail::shaping
