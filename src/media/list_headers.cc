// Checks and formats the List-Id and Feedback-ID header lines of a material.
#include "lbmail/media/list_headers.h"

#include <algorithm>

#include "lbmail/media/mime_header.h"

namespace lbmail::media {
namespace {

constexpr size_t kMaxListIdOctets = 255;  // RFC 2919 section 3: the list-id, without < >
constexpr size_t kMaxFeedbackFields = 4;  // Gmail aggregates the last four ':'-separated fields
constexpr size_t kMinSenderIdOctets = 5, kMaxSenderIdOctets = 15;  // Gmail's SenderId

bool printableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 32 && c < 127; });
}

// RFC 5322 atext.
bool atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// RFC 2919 section 2: list-id = list-label "." list-id-namespace, both dot-atom-text, so a
// dot-atom-text with at least one dot.
bool validListId(std::string_view id) {
  if (id.empty() || id.size() > kMaxListIdOctets || id.find('.') == id.npos) return false;
  if (id.front() == '.' || id.back() == '.' || id.find("..") != id.npos) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c == '.' || atext(c); });
}

// The common rules of both: set once for every message, so no merge fields; one header line.
const char* lineError(std::string_view name, std::string_view value) {
  if (!printableAscii(value)) return "one line of printable ASCII";
  if (value.find("{{") != value.npos) return "merge fields are not allowed (it is the same in every message)";
  if (value.front() == ' ' || value.back() == ' ') return "leading or trailing space";
  if (name.size() + 2 + value.size() > kMaxHeaderLineOctets) return "longer than a header line may be (998 octets)";
  return nullptr;
}

// "[phrase] <list-id>" (RFC 2919 section 3): the phrase is the list's description.
const char* listIdError(std::string_view value) {
  if (const char* err = lineError("List-Id", value)) return err;
  size_t open = value.rfind('<');
  if (open == value.npos || value.back() != '>') return "expected 'Name <id.domain>' or '<id.domain>'";
  if (value.substr(0, open).find_first_of("<>") != value.npos) return "'<' or '>' in the name";
  if (!validListId(value.substr(open + 1, value.size() - open - 2)))
    return "the id must be dot-atom text with a dot, at most 255 octets (RFC 2919)";
  return nullptr;
}

// Gmail's "a:b:c:SenderId": up to three optional identifiers and the SenderId, 5 to 15
// characters, right-most (support.google.com/mail/answer/6254652).
const char* feedbackIdError(std::string_view value) {
  if (const char* err = lineError("Feedback-ID", value)) return err;
  if (value.find(' ') != value.npos) return "spaces are not allowed (expected a:b:c:SenderId)";
  if (static_cast<size_t>(std::count(value.begin(), value.end(), ':')) + 1 > kMaxFeedbackFields)
    return "more than four ':'-separated fields (expected a:b:c:SenderId)";
  std::string_view sender_id = value.substr(value.rfind(':') + 1);
  if (sender_id.size() < kMinSenderIdOctets || sender_id.size() > kMaxSenderIdOctets)
    return "the SenderId (the last field) must be 5 to 15 characters";
  return nullptr;
}

}  // namespace

Expected<std::string, std::string> formatListHeaders(std::string_view list_id, std::string_view feedback_id) {
  std::string out;
  if (!list_id.empty()) {
    if (const char* err = listIdError(list_id)) return unexpected("List-Id: " + std::string(err));
    out.append("List-Id: ").append(list_id).append("\r\n");
  }
  if (!feedback_id.empty()) {
    if (const char* err = feedbackIdError(feedback_id)) return unexpected("Feedback-ID: " + std::string(err));
    out.append("Feedback-ID: ").append(feedback_id).append("\r\n");
  }
  return out;
}

}  // namespace lbmail::media
