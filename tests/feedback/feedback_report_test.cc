// Tests for readReport over DSNs, ARF reports, text bounces and auto-replies as MTAs and
// feedback loops write them (report_samples.h), in LF and CRLF, and over broken reports.
#include "lbmail/feedback/feedback_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report_samples.h"

namespace lbmail::feedback {
namespace {

using namespace samples;

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
    if (out.size() % 77 == 76) out += '\n';  // 76-character lines, RFC 2045 section 6.8
  }
  return out;
}

std::string multiRecipientDsn() {
  return std::string(kMultiRecipientDsnHead) + base64(kMultiRecipientStatus) + std::string(kMultiRecipientTail);
}

std::string jmrpArf() { return std::string(kArfJmrpHead) + base64(kArfJmrpOriginal) + std::string(kArfJmrpTail); }

struct Expect {
  const char* name;
  std::string message;
  ReportType type;
  ReportVerdict verdict;
  std::string status;
  std::string detail_has;
  std::string final_recipient;
  std::vector<std::string> senders;
  std::vector<std::string> urls;
};

std::vector<Expect> cases() {
  return {
      {"postfix hard", std::string(kPostfixHardDsn), ReportType::kDsn, ReportVerdict::kHardBounce, "5.1.1",
       "550 5.1.1 <nobody@rcpt.example>: Recipient address rejected: User unknown", "nobody@rcpt.example",
       {"bounce+TOKEN@bounce.sender.example"},
       {"https://u.sender.example/u/UTOKEN", "mailto:bounce+UTOKEN@bounce.sender.example"}},
      {"postfix delayed", std::string(kPostfixDelayedDsn), ReportType::kDsn, ReportVerdict::kNone, "", "",
       "slow@rcpt.example", {}, {}},
      {"success", std::string(kSuccessDsn), ReportType::kDsn, ReportVerdict::kNone, "", "", "happy@rcpt.example", {}, {}},
      {"multi-recipient base64", multiRecipientDsn(), ReportType::kDsn, ReportVerdict::kHardBounce, "5.2.1",
       "550 5.2.1 The email account", "gone@rcpt.example", {"bounce+TOKEN@bounce.sender.example"}, {}},
      {"rfc 5965 b.1", arfRfc5965B1(), ReportType::kArf, ReportVerdict::kComplaint, "", "abuse", "", {}, {}},
      {"rfc 5965 b.2", arfRfc5965B2(), ReportType::kArf, ReportVerdict::kComplaint, "", "abuse",
       "user@example.com", {"somespammer@example.net"}, {}},
      {"yahoo", std::string(kArfYahoo), ReportType::kArf, ReportVerdict::kComplaint, "", "abuse", "redacted@yahoo.example",
       {"bounce+TOKEN@bounce.sender.example"}, {"https://u.sender.example/u/UTOKEN"}},
      {"microsoft jmrp", jmrpArf(), ReportType::kArf, ReportVerdict::kComplaint, "", "abuse", "redacted@outlook.example",
       {}, {"mailto:bounce+UTOKEN@bounce.sender.example?subject=unsubscribe", "https://u.sender.example/u/UTOKEN"}},
      {"qmail", std::string(kQmailBounce), ReportType::kTextBounce, ReportVerdict::kHardBounce, "5.1.1",
       "Remote host said: 550 5.1.1 <nobody@rcpt.example>", "", {}, {}},
      {"exim", std::string(kEximBounce), ReportType::kTextBounce, ReportVerdict::kHardBounce, "5.1.1",
       "550 5.1.1 <nobody@rcpt.example>: Recipient address rejected", "", {}, {}},
      {"vacation", std::string(kVacationReply), ReportType::kNone, ReportVerdict::kNone, "", "", "", {}, {}},
  };
}

void check(const Expect& e, const FeedbackReport& r, const char* form) {
  SCOPED_TRACE(std::string(e.name) + " (" + form + ")");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(reportTypeName(r.type), std::string(reportTypeName(e.type)));
  EXPECT_EQ(static_cast<int>(r.verdict), static_cast<int>(e.verdict));
  EXPECT_EQ(r.status, e.status);
  if (e.detail_has.empty()) {
    EXPECT_EQ(r.detail, "");
  } else {
    EXPECT_NE(r.detail.find(e.detail_has), std::string::npos) << r.detail;
  }
  EXPECT_EQ(r.final_recipient, e.final_recipient);
  EXPECT_EQ(r.original_senders, e.senders);
  EXPECT_EQ(r.unsubscribe_urls, e.urls);
}

TEST(FeedbackReport, ReadsWhatMtasAndFeedbackLoopsSend) {
  for (const Expect& e : cases()) {
    check(e, readReport(e.message), "LF");
    check(e, readReport(crlf(e.message)), "CRLF");
  }
}

TEST(FeedbackReport, TypeNames) {
  EXPECT_STREQ(reportTypeName(ReportType::kNone), "none");
  EXPECT_STREQ(reportTypeName(ReportType::kDsn), "dsn");
  EXPECT_STREQ(reportTypeName(ReportType::kArf), "arf");
  EXPECT_STREQ(reportTypeName(ReportType::kTextBounce), "text");
}

TEST(FeedbackReport, AFromHeaderIsNoSender) {
  FeedbackReport r = readReport(arfRfc5965B1());
  EXPECT_TRUE(r.original_senders.empty());  // only From: <somespammer@example.net> is there
}

TEST(FeedbackReport, NotSpamAndAuthFailureReportsAreNoComplaints) {
  for (const char* type : {"not-spam", "auth-failure"}) {
    std::string m = arfRfc5965B1();
    m.replace(m.find("Feedback-Type: abuse"), 20, std::string("Feedback-Type: ") + type);
    FeedbackReport r = readReport(m);
    EXPECT_EQ(r.type, ReportType::kArf) << type;
    EXPECT_EQ(r.verdict, ReportVerdict::kNone) << type;
    EXPECT_EQ(r.detail, type);
  }
}

TEST(FeedbackReport, FailedWithATransientStatusIsSoft) {
  std::string m(kPostfixHardDsn);
  m.replace(m.find("Status: 5.1.1"), 13, "Status: 4.4.7");
  FeedbackReport r = readReport(m);
  EXPECT_EQ(r.verdict, ReportVerdict::kSoftBounce);
  EXPECT_EQ(r.status, "4.4.7");
}

TEST(FeedbackReport, ReadsGlobalDeliveryStatus) {
  std::string m(kPostfixHardDsn);
  m.replace(m.find("message/delivery-status"), 23, "message/global-delivery-status");
  FeedbackReport r = readReport(m);
  EXPECT_EQ(r.verdict, ReportVerdict::kHardBounce);
}

TEST(FeedbackReport, MalformedReportsSayWhyAndGiveNoVerdict) {
  struct Case {
    const char* name;
    std::string message;
    ReportType type;
    const char* error_has;
  };
  std::string no_boundary(kPostfixHardDsn);
  no_boundary.replace(no_boundary.find(";\n\tboundary="), 12, "; x=");
  std::string wrong_boundary(kPostfixHardDsn);
  wrong_boundary.replace(wrong_boundary.find("boundary=\"4F2A"), 14, "boundary=\"7777");
  std::string no_status(kPostfixHardDsn);
  no_status.replace(no_status.find("message/delivery-status"), 23, "text/plain");
  std::string no_recipients(kPostfixHardDsn);
  no_recipients.replace(no_recipients.find("Final-Recipient: rfc822; nobody"), 16, "X-Recipient:");
  no_recipients.replace(no_recipients.find("Action: failed"), 14, "X-Action: none");
  std::string no_feedback = arfRfc5965B2();
  no_feedback.replace(no_feedback.find("message/feedback-report"), 23, "text/plain");
  for (const Case& c : {Case{"no boundary", no_boundary, ReportType::kDsn, "without a boundary"},
                        Case{"wrong boundary", wrong_boundary, ReportType::kDsn, "no part delimited"},
                        Case{"no status part", no_status, ReportType::kDsn, "no message/delivery-status"},
                        Case{"no recipients", no_recipients, ReportType::kDsn, "no per-recipient"},
                        Case{"no feedback part", no_feedback, ReportType::kArf, "no message/feedback-report"}}) {
    FeedbackReport r = readReport(c.message);
    EXPECT_EQ(r.type, c.type) << c.name;
    EXPECT_EQ(r.verdict, ReportVerdict::kNone) << c.name;
    EXPECT_NE(r.error.find(c.error_has), std::string::npos) << c.name << ": " << r.error;
  }
}

TEST(FeedbackReport, PartsPastTheLimitsAreNotRead) {
  ReportLimits limits;
  limits.max_parts = 2;  // the message and its first part: the delivery-status part is the second
  FeedbackReport r = readReport(kPostfixHardDsn, limits);
  EXPECT_EQ(r.verdict, ReportVerdict::kNone);
  EXPECT_NE(r.error, "");
  limits = ReportLimits{};
  limits.max_depth = 0;  // the top multipart is not split
  EXPECT_EQ(readReport(kPostfixHardDsn, limits).verdict, ReportVerdict::kNone);
  limits = ReportLimits{};
  limits.max_text_scan = 200;  // the qmail status line is past it
  EXPECT_EQ(readReport(kQmailBounce, limits).verdict, ReportVerdict::kNone);
  EXPECT_EQ(readReport(kQmailBounce).verdict, ReportVerdict::kHardBounce);
}

TEST(FeedbackReport, EveryPrefixIsReadWithoutHarm) {
  // Truncated reports (a connection cut mid-DATA, a size limit) are input like any other.
  for (const Expect& e : cases()) {
    for (size_t n = 0; n <= e.message.size(); n += 7) (void)readReport(std::string_view(e.message).substr(0, n));
  }
}

}  // namespace
}  // namespace lbmail::feedback
