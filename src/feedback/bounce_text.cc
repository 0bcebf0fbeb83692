// Status codes in bounce text.
#include "bounce_text.h"

#include <string>

#include "ascii_text.h"
#include "status_code.h"

namespace lbmail::feedback {
namespace {

constexpr std::string_view kBounceSubjects[] = {"undeliver", "delivery status", "failure", "returned",
                                                "delivery failed", "not delivered", "delivery problem"};
constexpr std::string_view kAutoReplySubjects[] = {"out of office", "automatic reply", "auto:", "autoreply",
                                                   "vacation", "abwesenheit"};

bool fromDaemon(const HeaderFields& header) {
  if (const std::string* rp = header.find("Return-Path"); rp && angleAddress(*rp).empty() && rp->find('<') != std::string::npos) {
    return true;
  }
  const std::string* from = header.find("From");
  if (!from) return false;
  std::string_view address = angleAddress(*from);
  std::string_view local = address.substr(0, address.find('@'));
  return containsIgnoreCase(local, "mailer-daemon") || equalsIgnoreCase(local, "postmaster") ||
         containsIgnoreCase(*from, "mail delivery subsystem") || containsIgnoreCase(*from, "mail delivery system");
}

bool autoReply(const HeaderFields& header, std::string_view subject) {
  const std::string* submitted = header.find("Auto-Submitted");
  const std::string* precedence = header.find("Precedence");
  if ((submitted && containsIgnoreCase(*submitted, "auto-replied")) || header.find("X-Autoreply") ||
      header.find("X-Autorespond") || (precedence && containsIgnoreCase(*precedence, "auto_reply"))) {
    return true;
  }
  for (std::string_view s : kAutoReplySubjects) {
    if (startsWithIgnoreCase(trimWhiteSpace(subject), s)) return true;
  }
  return false;
}

// The copy of the returned message that text bounces append may hold any codes at all.
bool startsReturnedCopy(std::string_view line) {
  line = trimWhiteSpace(line);
  return !line.empty() && line.front() == '-' &&
         (containsIgnoreCase(line, "copy of the message") || containsIgnoreCase(line, "original message"));
}

struct LineCode {
  char cls = 0;            // '4', '5' or 0
  std::string_view status;  // the enhanced code of that class on the line, if any
};

LineCode codeOf(std::string_view line) {
  LineCode out;
  for (size_t i = 0; i < line.size(); ++i) {
    bool boundary = i == 0 || !(isAsciiAlnum(line[i - 1]) || line[i - 1] == '.');
    if (!boundary || (line[i] != '4' && line[i] != '5')) continue;
    if (size_t n = enhancedCodeLength(line.substr(i))) {
      if (line[i] > out.cls) out = {line[i], line.substr(i, n)};
      i += n;
    }
  }
  std::string_view lead = trimWhiteSpace(line);
  size_t said = std::string_view::npos;
  for (size_t i = 0; i + 5 <= line.size() && said == std::string_view::npos; ++i) {
    if (startsWithIgnoreCase(line.substr(i), "said:")) said = i + 5;
  }
  char reply = failureReplyCodeAt(lead) ? lead[0] : 0;
  if (said != std::string_view::npos) {
    std::string_view after = trimWhiteSpace(line.substr(said));
    if (failureReplyCodeAt(after) && after[0] > reply) reply = after[0];
  }
  if (reply > out.cls) out = {reply, {}};
  return out;
}

void judgeLine(std::string_view line, const LineCode& code, FeedbackReport& report) {
  report.verdict = code.cls == '5' ? ReportVerdict::kHardBounce : ReportVerdict::kSoftBounce;
  report.status = code.status.empty() ? std::string(1, code.cls) + ".0.0" : std::string(code.status);
  report.detail = trimWhiteSpace(line);
}

}  // namespace

bool looksLikeBounce(const HeaderFields& header) {
  if (fromDaemon(header)) return true;
  const std::string* subject = header.find("Subject");
  if (!subject || autoReply(header, *subject)) return false;
  for (std::string_view s : kBounceSubjects) {
    if (containsIgnoreCase(*subject, s)) return true;
  }
  return false;
}

void judgeBounceText(std::string_view text, size_t max_bytes, FeedbackReport& report) {
  report.type = ReportType::kTextBounce;
  LineCursor lines(text.substr(0, max_bytes));
  std::string_view line;
  std::string_view soft_line;
  LineCode soft;
  while (lines.next(line) && !startsReturnedCopy(line)) {
    LineCode code = codeOf(line);
    if (code.cls == '5') return judgeLine(line, code, report);
    if (code.cls == '4' && soft.cls == 0) {
      soft = code;
      soft_line = line;
    }
  }
  if (soft.cls != 0) judgeLine(soft_line, soft, report);
}

}  // namespace lbmail::feedback
