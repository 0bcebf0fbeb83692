// readReport: which kind of report a returned message claims to be, and what it says
// (docs/feedback.md#what-is-read).
#include "lbmail/feedback/feedback_report.h"

#include <algorithm>

#include "ascii_text.h"
#include "bounce_text.h"
#include "delivery_status.h"
#include "mime_entity.h"

namespace lbmail::feedback {
namespace {

constexpr size_t kMaxFieldsBytes = 64 * 1024;  // of a delivery-status or feedback-report part
constexpr size_t kMaxHeaderBytes = 64 * 1024;  // of a returned message's header
constexpr size_t kMaxFound = 16;               // original_senders, unsubscribe_urls
constexpr size_t kMaxUrlBytes = 2048;

bool isDeliveryStatus(const ContentType& t) {
  return t.is("message", "delivery-status") || t.is("message", "global-delivery-status");  // RFC 6533
}

bool isFeedbackReport(const ContentType& t) { return t.is("message", "feedback-report"); }

// The returned original: a whole message or only its header (RFC 6522 section 3, RFC 6533).
bool isOriginal(const ContentType& t) {
  return t.type == "message" ? (t.subtype == "rfc822" || t.subtype == "global" || t.subtype == "rfc822-headers" ||
                                t.subtype == "global-headers")
                             : t.is("text", "rfc822-headers");
}

const MimeEntity* firstOf(const MimeTree& tree, bool (*want)(const ContentType&)) {
  for (const MimeEntity& e : tree.entities) {
    if (want(e.type)) return &e;
  }
  return nullptr;
}

// What the message claims to be: multipart/report's report-type (RFC 6522 section 3) or, for
// senders that wrap reports in other multiparts, the report part it holds.
ReportType claimedType(const MimeTree& tree) {
  const ContentType& top = tree.entities.front().type;
  if (top.is("multipart", "report")) {
    std::string type = asciiLowercase(trimWhiteSpace(top.param("report-type")));
    if (type == "delivery-status" || type == "global-delivery-status") return ReportType::kDsn;
    if (type == "feedback-report") return ReportType::kArf;
  }
  if (firstOf(tree, isFeedbackReport)) return ReportType::kArf;
  if (firstOf(tree, isDeliveryStatus)) return ReportType::kDsn;
  return ReportType::kNone;
}

void addFound(std::vector<std::string>& list, std::string_view value) {
  if (value.empty() || value.size() > kMaxUrlBytes || list.size() >= kMaxFound) return;
  if (std::find(list.begin(), list.end(), value) == list.end()) list.emplace_back(value);
}

// The returned message's Return-Path (where the VERP token is; its From is the list's, no
// token) and the URLs of its List-Unsubscribe (RFC 2369 section 2: each in angle brackets).
void readOriginal(const MimeTree& tree, FeedbackReport& report) {
  const MimeEntity* original = firstOf(tree, isOriginal);
  if (!original) return;
  HeaderFields header = HeaderFields::parse(decodedBody(*original, kMaxHeaderBytes));
  for (const HeaderField& f : header.fields()) {
    if (equalsIgnoreCase(f.name, "Return-Path")) addFound(report.original_senders, angleAddress(f.value));
    if (!equalsIgnoreCase(f.name, "List-Unsubscribe")) continue;
    std::string_view rest = f.value;
    for (size_t open = rest.find('<'); open != std::string_view::npos; open = rest.find('<')) {
      size_t close = rest.find('>', open);
      if (close == std::string_view::npos) break;
      addFound(report.unsubscribe_urls, trimWhiteSpace(rest.substr(open + 1, close - open - 1)));
      rest = rest.substr(close + 1);
    }
  }
}

// The part a claimed report must have; without it the report is malformed: why, from the
// MIME walk when it failed first.
const MimeEntity* reportPart(const MimeTree& tree, ReportType type, bool (*want)(const ContentType&),
                             const char* name, FeedbackReport& report) {
  report.type = type;
  const MimeEntity* part = firstOf(tree, want);
  if (!part) report.error = tree.error.empty() ? std::string("no ") + name + " part" : tree.error;
  return part;
}

std::string clipped(std::string_view s) { return std::string(s.substr(0, kMaxReportDetailBytes)); }

void readDsn(const MimeTree& tree, FeedbackReport& report) {
  const MimeEntity* status = reportPart(tree, ReportType::kDsn, isDeliveryStatus, "message/delivery-status", report);
  if (!status) return;
  std::vector<RecipientStatus> recipients = readRecipientStatuses(decodedBody(*status, kMaxFieldsBytes));
  if (recipients.empty()) {
    report.error = "no per-recipient fields in the delivery-status part";
    return;
  }
  judgeDelivery(recipients, report);
  readOriginal(tree, report);
}

void readArf(const MimeTree& tree, FeedbackReport& report) {
  const MimeEntity* part = reportPart(tree, ReportType::kArf, isFeedbackReport, "message/feedback-report", report);
  if (!part) return;
  HeaderFields fields = HeaderFields::parse(decodedBody(*part, kMaxFieldsBytes));
  std::string type;
  if (const std::string* v = fields.find("Feedback-Type")) type = asciiLowercase(trimWhiteSpace(*v));
  // not-spam undoes a complaint and auth-failure (RFC 6591) is about authentication, not the
  // recipient's wish: neither is a complaint.
  report.verdict = (type == "not-spam" || type == "auth-failure") ? ReportVerdict::kNone : ReportVerdict::kComplaint;
  report.detail = type;
  for (const HeaderField& f : fields.fields()) {
    if (equalsIgnoreCase(f.name, "Original-Mail-From")) addFound(report.original_senders, angleAddress(f.value));
    if (equalsIgnoreCase(f.name, "Original-Rcpt-To") && report.final_recipient.empty()) {
      report.final_recipient = angleAddress(f.value);
    }
  }
  readOriginal(tree, report);
}

// The text a bounce's words are in: the message itself when it is text, else its first
// text/plain part, else its first text part.
const MimeEntity* bounceText(const MimeTree& tree) {
  const MimeEntity* any_text = nullptr;
  for (const MimeEntity& e : tree.entities) {
    if (e.type.is("text", "plain")) return &e;
    if (e.type.type == "text" && !any_text) any_text = &e;
  }
  return any_text;
}

void readText(const MimeTree& tree, const ReportLimits& limits, FeedbackReport& report) {
  if (!looksLikeBounce(tree.entities.front().header)) return;
  const MimeEntity* text = bounceText(tree);
  if (!text) return;
  judgeBounceText(decodedBody(*text, limits.max_text_scan), limits.max_text_scan, report);
}

}  // namespace

const char* reportTypeName(ReportType t) {
  switch (t) {
    case ReportType::kNone: return "none";
    case ReportType::kDsn: return "dsn";
    case ReportType::kArf: return "arf";
    case ReportType::kTextBounce: return "text";
  }
  return "none";
}

FeedbackReport readReport(std::string_view message, const ReportLimits& limits) {
  FeedbackReport report;
  MimeTree tree = readMimeTree(message, std::max<size_t>(limits.max_parts, 1), limits.max_depth);
  switch (claimedType(tree)) {
    case ReportType::kDsn: readDsn(tree, report); break;
    case ReportType::kArf: readArf(tree, report); break;
    default: readText(tree, limits, report); break;
  }
  if (!report.error.empty()) report.verdict = ReportVerdict::kNone;
  report.detail = clipped(report.detail);
  report.final_recipient = clipped(report.final_recipient);
  return report;
}

}  // namespace lbmail::feedback
