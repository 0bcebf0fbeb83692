// What a message that came back says: a delivery status notification (RFC 3464, inside
// multipart/report, RFC 6522), an abuse feedback report (ARF, RFC 5965), a bounce written as
// plain text by an MTA that makes no DSN, or nothing (an auto-reply). A pure parser over the
// received bytes (header and body as they arrived, CRLF or LF), bounded in work and memory by
// the input's size. Details: docs/feedback.md#what-is-read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lbmail::feedback {

// detail and final_recipient are cut to this many bytes (FEEDBACK's detail limit).
constexpr size_t kMaxReportDetailBytes = 512;

enum class ReportType { kNone, kDsn, kArf, kTextBounce };
const char* reportTypeName(ReportType t);  // "none", "dsn", "arf", "text"

enum class ReportVerdict {
  kNone,        // nothing to act on: a success DSN (delivered, relayed, expanded), an auto-reply
  kHardBounce,  // a permanent failure: DSN Action failed with a 5.x.x Status, or bounce text with 5.x.x / 5yz
  kSoftBounce,  // a transient one: DSN Action delayed or failed with 4.x.x, or bounce text with 4.x.x
  kComplaint,   // an ARF report
};

struct FeedbackReport {
  ReportType type = ReportType::kNone;
  ReportVerdict verdict = ReportVerdict::kNone;
  std::string status;           // RFC 3463 code of the verdict ("5.1.1"); empty for complaints
  std::string detail;           // the Diagnostic-Code or bounce line; for ARF the Feedback-Type
  std::string final_recipient;  // DSN Final-Recipient or ARF Original-Rcpt-To, for logs only
  // ARF (and DSNs that return the original headers): where the original message's token may
  // be, as found, for the caller to verify: the addresses of Original-Mail-From and of the
  // original's Return-Path, and the URLs of its List-Unsubscribe. Untrusted until verified.
  std::vector<std::string> original_senders;
  std::vector<std::string> unsubscribe_urls;
  std::string error;  // why a report that claimed a type could not be read (malformed); empty when fine
};

// Limits on what readReport looks at; input past them is ignored, never an error.
struct ReportLimits {
  size_t max_parts = 32;       // MIME parts visited, nested ones included
  size_t max_depth = 4;        // multipart nesting
  size_t max_text_scan = 64 * 1024;  // bytes of a text part searched for bounce status codes
};

// What it claims: multipart/report's report-type (delivery-status or global-delivery-status:
// DSN; feedback-report: ARF), else a message/feedback-report or message/delivery-status part
// anywhere (reports wrapped in another multipart), else a text bounce when it looks like one
// (from MAILER-DAEMON or postmaster, or a bounce Subject without auto-reply marks). ARF with
// Feedback-Type not-spam or auth-failure gives no verdict.
FeedbackReport readReport(std::string_view message, const ReportLimits& limits = {});

}  // namespace lbmail::feedback
