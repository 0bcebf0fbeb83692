// Bounces written as text by MTAs that send no DSN (qmail, older Exim and Sendmail set-ups,
// many appliances): whether a message is one, and the status its text gives.
#pragma once

#include <cstddef>
#include <string_view>

#include "lbmail/feedback/feedback_report.h"
#include "mime_header.h"

namespace lbmail::feedback {

// From MAILER-DAEMON or postmaster (or a null Return-Path), or a bounce-like Subject without
// the marks of an auto-reply (RFC 3834 Auto-Submitted: auto-replied, X-Autoreply, Precedence:
// auto_reply): MTAs mark their bounces auto-replied too, so the sender decides first.
bool looksLikeBounce(const HeaderFields& header);

// Scans text (at most max_bytes) for RFC 3463 codes at a word boundary and 4yz/5yz reply
// codes at a line start or after "said:", up to the copy of the returned message; a 5 class
// wins over 4. Sets type kTextBounce and, when a code is found, the verdict, status and detail
// (the line it was on).
void judgeBounceText(std::string_view text, size_t max_bytes, FeedbackReport& report);

}  // namespace lbmail::feedback
