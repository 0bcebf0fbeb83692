// Tests for text bounces: which messages are bounces, and which status their words give.
#include "bounce_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail::feedback {
namespace {

TEST(BounceText, TellsBouncesFromAutoReplies) {
  struct Case {
    const char* header;
    bool bounce;
  };
  for (const Case& c : std::vector<Case>{
           {"From: MAILER-DAEMON@mx.example\n", true},
           {"From: Mail Delivery System <Mailer-Daemon@mx.example>\nAuto-Submitted: auto-replied\n", true},
           {"From: postmaster@mx.example\n", true},
           {"Return-Path: <>\nFrom: someone@mx.example\n", true},
           {"From: a@b.example\nSubject: Undeliverable: news\n", true},
           {"From: a@b.example\nSubject: Delivery Status Notification (Failure)\n", true},
           {"From: a@b.example\nSubject: Returned mail: see transcript\n", true},
           {"From: a@b.example\nSubject: Re: news\n", false},
           {"From: a@b.example\n", false},
           {"From: a@b.example\nSubject: failure notice\nAuto-Submitted: auto-replied\n", false},
           {"From: a@b.example\nSubject: Automatic reply: returned\n", false},
           {"From: a@b.example\nSubject: Delivery failure\nPrecedence: auto_reply\n", false},
           {"From: postmaster-fan@b.example\nSubject: hello\n", false},
       }) {
    EXPECT_EQ(looksLikeBounce(HeaderFields::parse(c.header)), c.bounce) << c.header;
  }
}

TEST(BounceText, FindsTheWorstStatusBeforeTheReturnedCopy) {
  struct Case {
    const char* text;
    ReportVerdict verdict;
    const char* status;
    const char* detail;
  };
  for (const Case& c : std::vector<Case>{
           {"550 5.1.1 no such user\n", ReportVerdict::kHardBounce, "5.1.1", "550 5.1.1 no such user"},
           {"  550 no such user\n", ReportVerdict::kHardBounce, "5.0.0", "550 no such user"},
           {"host x said: 452 4.2.2 mailbox full\n", ReportVerdict::kSoftBounce, "4.2.2", "host x said: 452 4.2.2 mailbox full"},
           {"452 4.2.2 full\nlater: 550 5.7.1 refused\n", ReportVerdict::kHardBounce, "5.7.1", "later: 550 5.7.1 refused"},
           {"452 4.2.2 full\n  451 try later\n", ReportVerdict::kSoftBounce, "4.2.2", "452 4.2.2 full"},
           {"try again (#4.4.1)\nSorry, no mailbox here by that name. (#5.1.1)\n", ReportVerdict::kHardBounce, "5.1.1",
            "Sorry, no mailbox here by that name. (#5.1.1)"},
           {"first 4.4.1\n------ This is a copy of the message\n550 5.1.1 in the copy\n", ReportVerdict::kSoftBounce,
            "4.4.1", "first 4.4.1"},
           {"host 5.6.7.8 and 45.1.2 and v5.1.1 and 5.1.1000 and 5.1\n", ReportVerdict::kNone, "", ""},
           {"the 550 people\n", ReportVerdict::kNone, "", ""},
           {"", ReportVerdict::kNone, "", ""},
       }) {
    FeedbackReport r;
    judgeBounceText(c.text, 1024, r);
    EXPECT_EQ(r.type, ReportType::kTextBounce);
    EXPECT_EQ(r.verdict, c.verdict) << c.text;
    EXPECT_EQ(r.status, c.status) << c.text;
    EXPECT_EQ(r.detail, c.detail) << c.text;
  }
}

}  // namespace
}  // namespace lbmail::feedback
