// Reading RFC 3464 per-recipient fields into a bounce verdict.
#include "delivery_status.h"

#include "ascii_text.h"
#include "mime_header.h"
#include "status_code.h"

namespace lbmail::feedback {
namespace {

// What follows the "type;" of an RFC 3464 typed field (address-type, diagnostic-type).
std::string_view afterType(std::string_view value) {
  size_t semi = value.find(';');
  return trimWhiteSpace(semi == std::string_view::npos ? value : value.substr(semi + 1));
}

RecipientStatus recipientOf(const HeaderFields& group) {
  RecipientStatus r;
  if (const std::string* v = group.find("Final-Recipient")) r.final_recipient = angleAddress(afterType(*v));
  if (const std::string* v = group.find("Action")) r.action = asciiLowercase(trimWhiteSpace(*v));
  if (const std::string* v = group.find("Status")) {
    std::string_view s = trimWhiteSpace(*v);
    if (size_t n = enhancedCodeLength(s)) r.status = s.substr(0, n);
  }
  if (const std::string* v = group.find("Diagnostic-Code")) r.diagnostic = afterType(*v);
  return r;
}

void judge(const RecipientStatus& r, ReportVerdict verdict, const char* default_status, FeedbackReport& report) {
  report.verdict = verdict;
  bool fits = !r.status.empty() && r.status[0] == (verdict == ReportVerdict::kHardBounce ? '5' : '4');
  report.status = fits ? r.status : default_status;
  report.detail = r.diagnostic;
  report.final_recipient = r.final_recipient;
}

}  // namespace

std::vector<RecipientStatus> readRecipientStatuses(std::string_view body) {
  std::vector<RecipientStatus> out;
  LineCursor lines(body);
  std::string_view line;
  size_t group_start = 0;
  bool more = true;
  while (more) {
    more = lines.next(line);
    if (more && !blankLine(line)) continue;
    size_t end = more ? lines.offset() : body.size();
    HeaderFields group = HeaderFields::parse(body.substr(group_start, end - group_start));
    if (group.find("Final-Recipient") || group.find("Action")) out.push_back(recipientOf(group));
    group_start = end;
  }
  return out;
}

void judgeDelivery(const std::vector<RecipientStatus>& recipients, FeedbackReport& report) {
  for (const RecipientStatus& r : recipients) {
    if (r.action == "failed" && !r.status.empty() && r.status[0] == '5') return judge(r, ReportVerdict::kHardBounce, "", report);
  }
  for (const RecipientStatus& r : recipients) {
    // A failure with a 4.x.x status (a queue that gave up on a temporary error) or none at all
    // may yet clear: soft, which suppresses only when it repeats. "delayed" is no failure: the
    // message is still being delivered (RFC 3464 section 2.3.3), and one message draws several.
    if (r.action == "failed") return judge(r, ReportVerdict::kSoftBounce, "4.0.0", report);
  }
  report.verdict = ReportVerdict::kNone;
  if (!recipients.empty()) report.final_recipient = recipients.front().final_recipient;
}

}  // namespace lbmail::feedback
