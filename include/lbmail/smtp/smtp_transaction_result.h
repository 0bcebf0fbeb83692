// What became of one mail transaction, from the replies it got: for each recipient the reply
// that decided it, and the reply that decided the message (RFC 5321 sections 3.3 and 4.2).
#pragma once

#include <string>
#include <vector>

#include "lbmail/smtp/smtp_reply.h"

namespace lbmail::smtp {

// The replies a transaction collected, in the order the commands went out.
struct SmtpTransactionReplies {
  SmtpReply mail_reply;              // MAIL's, or a local refusal standing in for it
  bool mail_failed = false;          // MAIL refused (or refused locally): decides every recipient
  std::vector<SmtpReply> rcpt_replies;  // one per recipient; code 0 while none came
  SmtpReply final_reply;             // DATA refusal, end of data, or BDAT LAST
  SmtpReply failure_reply;           // a 421 that cut the transaction short
};

struct SmtpTransactionResult {
  // Per recipient, the reply that decided it; code 0 when none did (the connection failed
  // first), which means "try again later".
  std::vector<SmtpReply> recipients;
  SmtpReply reply;     // the reply that decided the message; code 0 when none did
  std::string reason;  // one line: the deciding reply's summary or what went wrong
};

// A failed MAIL decides every recipient; a refused RCPT decides its own; the rest share the
// final reply, or the 421 that cut the transaction short. failure says what ended the
// connection under the transaction, if anything did.
SmtpTransactionResult decideTransaction(const SmtpTransactionReplies& replies, const std::string& failure);

}  // namespace lbmail::smtp
