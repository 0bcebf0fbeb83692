// The fields of a message/delivery-status body (RFC 3464 section 2) and the verdict they give.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lbmail/feedback/feedback_report.h"

namespace lbmail::feedback {

struct RecipientStatus {
  std::string final_recipient;  // the address of Final-Recipient ("rfc822; a@b" -> "a@b")
  std::string action;           // lowercase: failed, delayed, delivered, relayed, expanded
  std::string status;           // the RFC 3463 code, "" when missing or not one
  std::string diagnostic;       // Diagnostic-Code after its type ("smtp; 550 ..." -> "550 ...")
};

// The per-recipient field groups: every group (lines up to a blank line) with a Final-Recipient
// or an Action; the per-message group has neither.
std::vector<RecipientStatus> readRecipientStatuses(std::string_view body);

// Fills the report's verdict, status, detail and final_recipient from the recipients: any
// failed with a 5.x.x status is a hard bounce; else any failed with another status, or
// delayed, a soft bounce; else (delivered, relayed, expanded) nothing.
void judgeDelivery(const std::vector<RecipientStatus>& recipients, FeedbackReport& report);

}  // namespace lbmail::feedback
