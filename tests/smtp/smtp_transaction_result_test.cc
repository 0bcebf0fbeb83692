// Tests for deciding each recipient's fate from the replies one transaction collected.
#include "lbmail/smtp/smtp_transaction_result.h"

#include <gtest/gtest.h>

namespace lbmail::smtp {
namespace {

SmtpReply reply(int code, std::string text) {
  SmtpReply r;
  r.code = code;
  r.text = std::move(text);
  return r;
}

TEST(SmtpTransactionResult, FailedMailDecidesEveryRecipient) {
  SmtpTransactionReplies t;
  t.mail_failed = true;
  t.mail_reply = reply(452, "too many");
  t.rcpt_replies.resize(2);
  SmtpTransactionResult r = decideTransaction(t, {});
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].code, 452);
  EXPECT_EQ(r.recipients[1].code, 452);
  EXPECT_EQ(r.reason, "452 too many");
}

TEST(SmtpTransactionResult, ARefusalDecidesTheMessageOverAnEarlierAcceptance) {
  SmtpTransactionReplies t;
  t.rcpt_replies = {reply(250, "ok"), reply(550, "unknown")};
  t.final_reply = reply(250, "queued");
  SmtpTransactionResult r = decideTransaction(t, {});
  EXPECT_EQ(r.recipients[0].code, 250);
  EXPECT_EQ(r.recipients[1].code, 550);
  EXPECT_EQ(r.reply.code, 550);
  EXPECT_EQ(r.reason, "550 unknown");
}

TEST(SmtpTransactionResult, CutShortLeavesRecipientsUndecidedWithTheFailureAsReason) {
  SmtpTransactionReplies t;
  t.rcpt_replies = {reply(250, "ok")};
  SmtpTransactionResult r = decideTransaction(t, "connection closed by the server");
  EXPECT_EQ(r.recipients[0].code, 0);
  EXPECT_EQ(r.reply.code, 0);
  EXPECT_EQ(r.reason, "connection closed by the server");
  t.failure_reply = reply(421, "bye");
  r = decideTransaction(t, "421 bye");
  EXPECT_EQ(r.recipients[0].code, 421);
  EXPECT_EQ(r.reason, "421 bye");
}

}  // namespace
}  // namespace lbmail::smtp
