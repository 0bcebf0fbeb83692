// Deciding each recipient's fate from a transaction's replies.
#include "lbmail/smtp/smtp_transaction_result.h"

namespace lbmail::smtp {
namespace {

const SmtpReply* decidedBy(const SmtpTransactionReplies& t, size_t i) {
  if (t.mail_failed) return &t.mail_reply;
  if (t.rcpt_replies[i].code != 0 && !t.rcpt_replies[i].positive()) return &t.rcpt_replies[i];
  if (t.final_reply.code != 0) return &t.final_reply;
  if (t.failure_reply.code != 0) return &t.failure_reply;
  return nullptr;
}

}  // namespace

SmtpTransactionResult decideTransaction(const SmtpTransactionReplies& replies, const std::string& failure) {
  SmtpTransactionResult result;
  const SmtpReply* decisive = nullptr;
  result.recipients.resize(replies.rcpt_replies.size());
  for (size_t i = 0; i < replies.rcpt_replies.size(); ++i) {
    const SmtpReply* by = decidedBy(replies, i);
    if (by) result.recipients[i] = *by;
    // The message is decided by its first recipient's reply, unless a later one was a refusal.
    if (!decisive || (by && decisive->positive() && !by->positive())) decisive = by;
  }
  if (decisive) result.reply = *decisive;
  if (decisive && !decisive->positive()) {
    result.reason = decisive->summary();
  } else {
    result.reason = !failure.empty() ? failure : decisive ? decisive->summary() : std::string();
  }
  return result;
}

}  // namespace lbmail::smtp
