// List-Id (RFC 2919) and Feedback-ID (Gmail's feedback loop): header lines a material sets once,
// the same in every message, so a gateway can DKIM-sign them.
#pragma once

#include <string>
#include <string_view>

#include "lbmail/core/expected.h"

namespace lbmail::media {

// "List-Id: ...\r\n" and "Feedback-ID: ...\r\n" for the values that are not empty, or what is
// wrong with one: each is one line of printable ASCII without merge fields; List-Id is
// "Name <label.namespace>" or "<label.namespace>"; Feedback-ID is "a:b:c:SenderId".
Expected<std::string, std::string> formatListHeaders(std::string_view list_id, std::string_view feedback_id);

}  // namespace lbmail::media
