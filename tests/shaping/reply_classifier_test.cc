// The reply classifier over real replies of the large providers, against the shipped rules
// file (configs/shaping-rules.toml): each row is a reply as the provider's postmaster page (or
// a bounce quoted there) gives it, parsed as the SMTP client parses it.
#include "lbmail/shaping/reply_classifier.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "lbmail/smtp/smtp_reply.h"
#include "validate.h"

namespace lbmail::shaping {
namespace {

// Parses one whole reply ("421-...\r\n421 ...\r\n"), as the delivery client reads it.
smtp::SmtpReply parseReply(std::string_view wire) {
  smtp::SmtpReplyParser parser;
  std::string input(wire);
  if (input.size() < 2 || input.substr(input.size() - 2) != "\r\n") input += "\r\n";
  std::string_view in = input;
  EXPECT_EQ(parser.parse(in), smtp::SmtpReplyParser::Status::kReply) << wire;
  return parser.reply();
}

const ReplyClassifier& shipped() {
  static const ReplyClassifier classifier = [] {
    auto loaded = ReplyClassifier::load(test::testEnv("LBMAIL_SOURCE_ROOT") + "/configs/shaping-rules.toml");
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error());
    return loaded ? std::move(*loaded) : ReplyClassifier();
  }();
  return classifier;
}

struct Row {
  const char* provider;
  const char* reply;
  ReplyClass expected;
};

// Texts and their pages: the comments in configs/shaping-rules.toml.
const Row kRealReplies[] = {
    // Gmail: support.google.com/a/answer/3726730, and bounces quoting it.
    {"gmail",
     "421-4.7.28 [203.0.113.42] Our system has detected an unusual rate of\r\n"
     "421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n"
     "421-4.7.28 users from spam, mail sent from your IP address has been temporarily\r\n"
     "421 4.7.28 rate limited. Please visit\r\n"
     "421 4.7.28 https://support.google.com/mail/?p=UnsolicitedRateLimitError to\r\n"
     "421 4.7.28 review our Bulk Email Senders Guidelines. - gsmtp",
     ReplyClass::kThrottle},
    {"gmail",
     "421 4.7.28 Gmail has detected an unusual rate of unsolicited email originating from your DKIM domain "
     "example.com. To protect our users from spam, email sent from your domain has been temporarily rate "
     "limited.",
     ReplyClass::kThrottle},
    {"gmail",
     "421 4.7.28 Gmail has detected an unusual rate of unsolicited email originating from your SPF domain "
     "example.com. To protect our users from spam, email sent from your domain has been temporarily rate "
     "limited.",
     ReplyClass::kThrottle},
    {"gmail",
     "550 5.7.28 There is an unusual rate of unsolicited email originating from your IP address. To protect "
     "our users from spam, email sent from your IP address has been blocked.",
     ReplyClass::kBlock},
    {"gmail",
     "550-5.7.1 [192.0.2.1 12] Our system has detected that this message is\r\n"
     "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n"
     "550-5.7.1 this message has been blocked. Please visit\r\n"
     "550 5.7.1 https://support.google.com/mail/answer/188131 for more information. - gsmtp",
     ReplyClass::kMailbox},
    {"gmail",
     "550-5.7.26 This email has been blocked because the sender is unauthenticated.\r\n"
     "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\r\n"
     "550 5.7.26 Authentication results: DKIM = did not pass SPF [example.com] with ip: [192.0.2.1] = did "
     "not pass - gsmtp",
     ReplyClass::kMailbox},
    {"gmail",
     "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Contact "
     "the administrator of example.com domain if this was legitimate email.",
     ReplyClass::kMailbox},
    {"gmail",
     "451 4.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy, but "
     "temporary DNS failures prevent authentication.",
     ReplyClass::kTransient},
    {"gmail",
     "421 4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message. "
     "Gmail requires all bulk email senders to authenticate their email with SPF.",
     ReplyClass::kMailbox},
    {"gmail", "421 4.7.0 IP not in whitelist for RCPT domain, closing connection.", ReplyClass::kTransient},
    {"gmail",
     "421 4.7.0 This message is suspicious due to the very low reputation of the sending IP address. To "
     "protect our users from spam, email sent from your IP address has been temporarily rate limited.",
     ReplyClass::kThrottle},
    {"gmail",
     "550 5.7.1 This message is likely suspicious due to the very low reputation of the sending IP address. "
     "To best protect our users from spam, the message has been blocked.",
     ReplyClass::kBlock},
    {"gmail",
     "550 5.7.1 This message is likely suspicious due to the very low reputation of the sending domain. To "
     "best protect our users from spam, the message has been blocked.",
     ReplyClass::kMailbox},
    {"gmail",
     "550 5.7.25 This message was blocked because the sending IP address doesn't have a PTR record, or the "
     "forwarding DNS entry doesn't reference the sending IP address.",
     ReplyClass::kBlock},
    {"gmail",
     "550 5.7.1 The user or domain that you are sending to (or from) has a policy that prohibits the email "
     "that you sent.",
     ReplyClass::kMailbox},
    {"gmail",
     "450 4.2.1 The user you are trying to contact is receiving email too quickly. Please resend your "
     "message at a later time.",
     ReplyClass::kTransient},
    {"gmail", "421 4.4.5 Server busy, try again later.", ReplyClass::kThrottle},
    {"gmail", "421 4.3.0 Temporary System Problem. Try again later.", ReplyClass::kTransient},
    {"gmail", "550 5.1.1 The email account that you tried to reach does not exist.", ReplyClass::kMailbox},
    {"gmail", "452 4.2.2 The recipient's inbox is out of storage space.", ReplyClass::kTransient},
    {"gmail", "552 5.2.2 The recipient's inbox is out of storage space and inactive.", ReplyClass::kMailbox},
    // Yahoo: senders.yahooinc.com/smtp-error-codes, smtp.codes/yahoo, help.yahoo.com SLN7253, SLN3436.
    {"yahoo",
     "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user "
     "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
     ReplyClass::kThrottle},
    {"yahoo",
     "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. "
     "See https://postmaster.yahooinc.com/error-codes",
     ReplyClass::kBlock},
    {"yahoo", "421 4.7.1 [TS03] All messages from 192.0.2.1 permanently deferred", ReplyClass::kBlock},
    {"yahoo",
     "554 5.7.9 Message not accepted for policy reasons.  See https://help.yahoo.com/kb/postmaster/SLN7253.html",
     ReplyClass::kMailbox},
    {"yahoo", "451 example.yahoo.com Resources temporarily unavailable. Please try again later [#4.16.1].",
     ReplyClass::kThrottle},
    {"yahoo",
     "554 delivery error: dd This user doesn't have a yahoo.com account (testing123@yahoo.com) [-5] - "
     "mta123.mail.mud.yahoo.com",
     ReplyClass::kMailbox},
    {"yahoo", "421 Max message per connection reached, closing transmission channel", ReplyClass::kTransient},
    // Microsoft: outlook.com postmaster troubleshooting, Exchange Online NDRs, bounces quoting them.
    {"microsoft",
     "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service "
     "provider since part of their network is on our block list (S3150). You can also refer your provider to "
     "http://mail.live.com/mail/troubleshooting.aspx#errors. [DB3EUR04FT007.eop-eur04.prod.protection.outlook.com]",
     ReplyClass::kBlock},
    {"microsoft",
     "550 SC-001 (SNT004-MC10F17) Unfortunately, messages from 192.0.2.1 weren't sent. Please contact your "
     "Internet service provider since part of their network is on our block list.",
     ReplyClass::kBlock},
    {"microsoft",
     "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714) "
     "[BL6PEPF0001AB50.namprd04.prod.outlook.com 2024-07-14T14:44:43.083Z 08DCA36F759CD546]",
     ReplyClass::kThrottle},
    {"microsoft", "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.",
     ReplyClass::kThrottle},
    {"microsoft",
     "421 RP-001 The mail server IP connecting to Outlook.com server has exceeded the rate limit allowed. "
     "Reason for rate limitation is related to IP/domain reputation.",
     ReplyClass::kThrottle},
    {"microsoft",
     "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit "
     "https://sender.office.com/ and follow the directions. AS(1430)",
     ReplyClass::kBlock},
    {"microsoft",
     "550 5.7.511 Access denied, banned sender[192.0.2.1]. To request removal from this list please forward "
     "this message to delist@messaging.microsoft.com.",
     ReplyClass::kBlock},
    {"microsoft",
     "550 5.4.1 [user@example.com]: Recipient address rejected: Access denied "
     "[CY1GCC01FT007.eop-gcc01.prod.protection.outlook.com]",
     ReplyClass::kMailbox},
    {"microsoft",
     "550 5.7.0 (COL0-MC6-F31) Unfortunately, messages from (192.0.2.1) on behalf of (yahoo.com) could not be "
     "delivered due to domain owner policy restrictions.",
     ReplyClass::kMailbox},
    {"microsoft",
     "550 5.7.515 Mail rejected by Outlook.com for policy reasons. Messages from domains sending over 5,000 "
     "emails per day to Outlook.com accounts must be authenticated with SPF, DKIM, and DMARC.",
     ReplyClass::kMailbox},
    // Apple iCloud (Proofpoint) and United Internet: generic rules under their provider.
    {"icloud", "550 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", ReplyClass::kBlock},
    {"united-internet",
     "554-gmx.net (mxgmx104) Nemesis ESMTP Service not available\r\n554-No SMTP service\r\n"
     "554-IP address is block listed.\r\n"
     "554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v=192.0.2.1",
     ReplyClass::kBlock},
    {"united-internet",
     "550 <user@example.com>: Reject due to SPF policy. The originating IP of the message is not permitted by "
     "the domain owner",
     ReplyClass::kMailbox},
    // Generic: block lists and filters anywhere.
    {"",
     "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
     "https://www.spamhaus.org/query/ip/192.0.2.1",
     ReplyClass::kBlock},
    {"",
     "554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; "
     "http://bbl.barracudacentral.com/q.cgi?ip=192.0.2.1",
     ReplyClass::kBlock},
    {"",
     "554 5.7.1 Service unavailable; Client host (192.0.2.1) blocked using bl.spamcop.net; Blocked - see "
     "http://www.spamcop.net/bl.shtml?192.0.2.1",
     ReplyClass::kBlock},
    {"", "554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", ReplyClass::kBlock},
    {"",
     "550 5.2.0 meQj1n01053u42A0HeQj3v Message rejected due to DMARC. Please see "
     "http://postmaster.comcast.net/smtp-error-codes.php#DM000001",
     ReplyClass::kMailbox},
    {"", "550 5.7.1 DMARC failure for domain example.com, policy reject", ReplyClass::kMailbox},
    {"", "421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1", ReplyClass::kThrottle},
    {"", "450 4.7.1 Error: too much mail from 192.0.2.1", ReplyClass::kThrottle},
    // Gmail's texts at an unknown provider (the simulator's sink) still classify.
    {"",
     "421 4.7.28 Gmail has detected an unusual rate of unsolicited email originating from your IP address "
     "192.0.2.1. To protect our users from spam, email sent from your IP address has been temporarily rate "
     "limited.",
     ReplyClass::kThrottle},
    // lbmail's own sink: a per-connection cap is no rate signal; its rate limit is.
    {"", "421 4.7.0 sink.example Too many messages on this connection", ReplyClass::kTransient},
    {"", "421 4.7.0 sink.example Message rate limit exceeded, try again later", ReplyClass::kThrottle},
    {"", "421 4.7.0 Too many connections from your address", ReplyClass::kThrottle},
};

TEST(ReplyClassifierTest, ShippedRulesLoad) { EXPECT_GE(shipped().patternCount(), 15u); }

TEST(ReplyClassifierTest, RealProviderReplies) {
  for (const Row& row : kRealReplies) {
    smtp::SmtpReply reply = parseReply(row.reply);
    ReplyClass got = shipped().classify(reply, row.provider);
    EXPECT_EQ(got, row.expected) << "provider '" << row.provider << "': " << row.reply << "\n  got "
                                 << replyClassName(got) << ", expected " << replyClassName(row.expected);
  }
}

TEST(ReplyClassifierTest, ProviderRulesApplyOnlyToTheirProvider) {
  smtp::SmtpReply busy = parseReply("421 4.4.5 Server busy, try again later.");
  EXPECT_EQ(shipped().classify(busy, "gmail"), ReplyClass::kThrottle);
  // Elsewhere the enhanced code decides: x.4.x is network and routing.
  EXPECT_EQ(shipped().classify(busy, ""), ReplyClass::kProtocol);
  EXPECT_EQ(shipped().classify(busy, "no-such-provider"), ReplyClass::kProtocol);
}

TEST(ReplyClassifierTest, SuccessAndNoReplyNeverReachThePatterns) {
  smtp::SmtpReply ok = parseReply("250 2.0.0 OK blocked using nothing");
  EXPECT_EQ(shipped().classify(ok, "gmail"), ReplyClass::kDelivered);
  smtp::SmtpReply none;  // code 0: the connection failed or timed out
  none.text = "blocked using zen.spamhaus.org";
  EXPECT_EQ(shipped().classify(none), ReplyClass::kProtocol);
}

TEST(ReplyClassifierTest, SitesOfTheShippedProviders) {
  const ReplyClassifier& c = shipped();
  EXPECT_EQ(c.siteOf({"alt1.gmail-smtp-in.l.google.com", "gmail-smtp-in.l.google.com"}), "gmail");
  EXPECT_EQ(c.siteOf({"ASPMX.L.GOOGLE.COM."}), "gmail");
  EXPECT_EQ(c.siteOf({"mta5.am0.yahoodns.net", "mta6.am0.yahoodns.net"}), "yahoo");
  EXPECT_EQ(c.siteOf({"mx-aol.mail.gm0.yahoodns.net"}), "yahoo");
  EXPECT_EQ(c.siteOf({"hotmail-com.olc.protection.outlook.com"}), "microsoft");
  EXPECT_EQ(c.siteOf({"example-com.mail.protection.outlook.com"}), "microsoft");
  EXPECT_EQ(c.siteOf({"mx01.mail.icloud.com", "mx02.mail.icloud.com"}), "icloud");
  EXPECT_EQ(c.siteOf({"mx-ha03.web.de"}), "united-internet");
  EXPECT_EQ(c.providerOf({"mx.example.org", "aspmx.l.google.com"}), "gmail");
  EXPECT_EQ(c.providerOf({"mx.example.org"}), "");
}

}  // namespace
}  // namespace lbmail::shaping
