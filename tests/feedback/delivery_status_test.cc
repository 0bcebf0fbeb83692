// Tests for RFC 3464 per-recipient fields and the bounce verdict they give.
#include "delivery_status.h"

#include <gtest/gtest.h>

namespace lbmail::feedback {
namespace {

TEST(DeliveryStatus, ReadsEachRecipientGroupAndSkipsThePerMessageOne) {
  std::vector<RecipientStatus> r = readRecipientStatuses(
      "Reporting-MTA: dns; mx.example\r\nArrival-Date: now\r\n \r\n"
      "Final-Recipient: RFC822; <A@b.example>\r\nAction: FAILED\r\nStatus: 5.1.1 (bad mailbox)\r\n"
      "Diagnostic-Code: smtp;550 no\r\n  such user\r\n\r\n\r\n"
      "Action: delayed\nStatus: 4.x.1\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].final_recipient, "A@b.example");
  EXPECT_EQ(r[0].action, "failed");
  EXPECT_EQ(r[0].status, "5.1.1");
  EXPECT_EQ(r[0].diagnostic, "550 no such user");
  EXPECT_EQ(r[1].final_recipient, "");
  EXPECT_EQ(r[1].status, "");  // not an RFC 3463 code
}

TEST(DeliveryStatus, JudgesHardOverSoftOverNothing) {
  struct Case {
    std::vector<RecipientStatus> recipients;
    ReportVerdict verdict;
    const char* status;
    const char* recipient;
  };
  RecipientStatus hard{"h@x", "failed", "5.2.2", "full"};
  RecipientStatus failed_transient{"t@x", "failed", "4.4.7", "expired"};
  RecipientStatus failed_no_status{"n@x", "failed", "", ""};
  RecipientStatus failed_success_code{"s@x", "failed", "2.0.0", ""};
  RecipientStatus delayed{"d@x", "delayed", "4.4.1", ""};
  RecipientStatus delivered{"ok@x", "delivered", "2.0.0", ""};
  for (const Case& c : std::vector<Case>{
           {{delivered, delayed, hard}, ReportVerdict::kHardBounce, "5.2.2", "h@x"},
           {{delivered, failed_transient}, ReportVerdict::kSoftBounce, "4.4.7", "t@x"},
           {{failed_no_status}, ReportVerdict::kSoftBounce, "4.0.0", "n@x"},
           {{failed_success_code}, ReportVerdict::kSoftBounce, "4.0.0", "s@x"},
           {{delayed}, ReportVerdict::kNone, "", "d@x"},  // still being delivered: no verdict
           {{delayed, failed_transient}, ReportVerdict::kSoftBounce, "4.4.7", "t@x"},
           {{delivered, {"r@x", "relayed", "2.0.0", ""}}, ReportVerdict::kNone, "", "ok@x"},
       }) {
    FeedbackReport report;
    judgeDelivery(c.recipients, report);
    EXPECT_EQ(report.verdict, c.verdict) << c.recipient;
    EXPECT_EQ(report.status, c.status) << c.recipient;
    EXPECT_EQ(report.final_recipient, c.recipient);
  }
}

}  // namespace
}  // namespace lbmail::feedback
