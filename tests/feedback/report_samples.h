// Returned messages as real MTAs and feedback loops write them, for the report reader's tests
// and the fuzz targets' seed corpora (LF line ends here; crlf() converts).
#pragma once

#include <string>
#include <string_view>

namespace lbmail::feedback::samples {

inline std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Postfix's bounce(8) for a mailbox that does not exist at the next hop.
constexpr std::string_view kPostfixHardDsn = R"(Return-Path: <>
Received: by mx.sender.example (Postfix)
	id 4F2A81C0D4; Fri,  4 Dec 2026 10:15:02 +0000 (UTC)
Date: Fri,  4 Dec 2026 10:15:02 +0000 (UTC)
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounce+TOKEN@bounce.sender.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4F2A81C0D4.1764843302/mx.sender.example"
Content-Transfer-Encoding: 8bit
Message-Id: <20261204101502.4F2A81C0D4@mx.sender.example>

This is a MIME-encapsulated message.

--4F2A81C0D4.1764843302/mx.sender.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<nobody@rcpt.example>: host mx.rcpt.example[192.0.2.25] said: 550 5.1.1
    <nobody@rcpt.example>: Recipient address rejected: User unknown in local
    recipient table (in reply to RCPT TO command)

--4F2A81C0D4.1764843302/mx.sender.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example
X-Postfix-Queue-ID: 4F2A81C0D4
X-Postfix-Sender: rfc822; bounce+TOKEN@bounce.sender.example
Arrival-Date: Fri,  4 Dec 2026 10:15:01 +0000 (UTC)

Final-Recipient: rfc822; nobody@rcpt.example
Original-Recipient: rfc822;nobody@rcpt.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.rcpt.example
Diagnostic-Code: smtp; 550 5.1.1 <nobody@rcpt.example>: Recipient address
    rejected: User unknown in local recipient table

--4F2A81C0D4.1764843302/mx.sender.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <bounce+TOKEN@bounce.sender.example>
Received: from gw1.sender.example (gw1.sender.example [198.51.100.7])
	by mx.sender.example (Postfix) with ESMTPS id 4F2A81C0D4
	for <nobody@rcpt.example>; Fri,  4 Dec 2026 10:15:01 +0000 (UTC)
From: News <news@sender.example>
To: nobody@rcpt.example
Subject: December news
List-Unsubscribe: <https://u.sender.example/u/UTOKEN>,
 <mailto:bounce+UTOKEN@bounce.sender.example>
List-Unsubscribe-Post: List-Unsubscribe=One-Click

--4F2A81C0D4.1764843302/mx.sender.example--
)";

// Postfix's delay warning (delay_warning_time): the message is still queued.
constexpr std::string_view kPostfixDelayedDsn = R"(From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: bounce+TOKEN@bounce.sender.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="9C1E21C0D5.1764850000/mx.sender.example"

--9C1E21C0D5.1764850000/mx.sender.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.example.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

<slow@rcpt.example>: connect to mx.rcpt.example[192.0.2.26]:25: Connection
    timed out

--9C1E21C0D5.1764850000/mx.sender.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example
X-Postfix-Queue-ID: 9C1E21C0D5
Arrival-Date: Fri,  4 Dec 2026 06:00:00 +0000 (UTC)

Final-Recipient: rfc822; slow@rcpt.example
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.rcpt.example[192.0.2.26]:25:
    Connection timed out
Will-Retry-Until: Fri, 9 Dec 2026 06:00:00 +0000 (UTC)

--9C1E21C0D5.1764850000/mx.sender.example--
)";

// A success notice (NOTIFY=SUCCESS): nothing to act on.
constexpr std::string_view kSuccessDsn = R"(From: MAILER-DAEMON@mx.rcpt.example (Mail Delivery System)
Subject: Successful Mail Delivery Report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="S1"

--S1
Content-Type: text/plain

Your message was successfully delivered to the destination(s) listed below.

--S1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.rcpt.example

Final-Recipient: rfc822; happy@rcpt.example
Action: delivered
Status: 2.0.0
Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 1234

Final-Recipient: rfc822; list@rcpt.example
Action: expanded
Status: 2.0.0

--S1--
)";

// Three recipients in one DSN, the hard failure last; its delivery-status part is base64 and
// the returned headers quoted-printable.
constexpr std::string_view kMultiRecipientDsnHead = R"(From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example>
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status";
  boundary="=_multi"

preamble text
--=_multi
Content-Type: text/plain

The original message was received and could not be delivered to all recipients.

--=_multi
Content-Type: message/delivery-status
Content-Transfer-Encoding: base64

)";

constexpr std::string_view kMultiRecipientStatus = R"(Reporting-MTA: dns; relay.example

Final-Recipient: rfc822; ok@rcpt.example
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; later@rcpt.example
Action: delayed
Status: 4.2.2

Final-Recipient: RFC822; <gone@rcpt.example>
Action: Failed
Status: 5.2.1 (mailbox disabled)
Diagnostic-Code: smtp; 550 5.2.1 The email account that you tried to reach is disabled.
)";

constexpr std::string_view kMultiRecipientTail = R"(
--=_multi
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: quoted-printable

Return-Path: <bounce+TOKEN@bounce.sender.=
example>
Subject: =3D news

--=_multi--
)";

// RFC 5965 Appendix B: both examples share the message header, the text part and the end of
// the original.
constexpr std::string_view kArfRfc5965Head = R"(From: <abusedesk@example.com>
Date: Thu, 8 Mar 2005 17:40:36 EDT
Subject: FW: Earn money
To: <abuse@example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.  For more information
about this format please see http://www.mipassoc.org/arf/.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

)";
constexpr std::string_view kArfRfc5965Tail = R"(To: <Undisclosed Recipients>
Subject: Earn money
MIME-Version: 1.0
Content-type: text/plain
Message-ID: 8787KJKJ3K4J3K4J3K4J3.mail@example.net
Date: Thu, 02 Sep 2004 12:31:03 -0500

Spam Spam Spam
Spam Spam Spam
Spam Spam Spam
Spam Spam Spam
--part1_13d.2e68ed54_boundary--
)";

// Appendix B.1, a minimal report: its fields and the original.
constexpr std::string_view kArfRfc5965B1Middle = R"(Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

Received: from mailserver.example.net
        (mailserver.example.net [192.0.2.1])
        by example.com with ESMTP id M63d4137594e46;
        Thu, 08 Mar 2005 14:00:00 -0400
From: <somespammer@example.net>
)";

// Appendix B.2, a report with the optional fields.
constexpr std::string_view kArfRfc5965B2Middle = R"(Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <somespammer@example.net>
Original-Rcpt-To: <user@example.com>
Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT
Reporting-MTA: dns; mail.example.com
Source-IP: 192.0.2.1
Authentication-Results: mail.example.com;
               spf=fail smtp.mail=somespammer@example.com
Reported-Domain: example.net
Reported-Uri: http://example.net/earn_money.html
Reported-Uri: mailto:user@example.com
Removal-Recipient: user@example.com

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: <somespammer@example.net>
Received: from mailserver.example.net (mailserver.example.net
        [192.0.2.1]) by example.com with ESMTP id M63d4137594e46;
        Thu, 08 Mar 2005 14:00:00 -0400
)";

inline std::string arfRfc5965B1() {
  return std::string(kArfRfc5965Head) + std::string(kArfRfc5965B1Middle) + std::string(kArfRfc5965Tail);
}
inline std::string arfRfc5965B2() {
  return std::string(kArfRfc5965Head) + std::string(kArfRfc5965B2Middle) + std::string(kArfRfc5965Tail);
}

// Yahoo's complaint feedback loop: multipart/report with a feedback-report and the whole
// original message, the recipient redacted.
constexpr std::string_view kArfYahoo = R"(From: feedbackloop@yahoo.example
To: fbl@sender.example
Subject: FW: December news
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="----=_Part_3141_59265"
X-Yahoo-Newman-Property: cfl

------=_Part_3141_59265
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP 198.51.100.7 on Fri, 04 Dec 2026 10:15:01 +0000

------=_Part_3141_59265
Content-Type: message/feedback-report
Content-Transfer-Encoding: 7bit

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 0.1
Original-Mail-From: <bounce+TOKEN@bounce.sender.example>
Original-Rcpt-To: <redacted@yahoo.example>
Received-Date: Fri, 04 Dec 2026 10:15:01 +0000
Source-IP: 198.51.100.7
Reported-Domain: sender.example
Authentication-Results: mta1000.mail.yahoo.example  from=sender.example; domainkeys=neutral (no sig);  from=sender.example; dkim=pass (ok)

------=_Part_3141_59265
Content-Type: message/rfc822
Content-Disposition: inline

Return-Path: <bounce+TOKEN@bounce.sender.example>
Received: from 198.51.100.7 (EHLO gw1.sender.example)
  by mta1000.mail.yahoo.example with SMTP; Fri, 04 Dec 2026 10:15:01 +0000
DKIM-Signature: v=1; a=rsa-sha256; d=sender.example; s=s1; h=from:to:subject:list-unsubscribe;
  bh=abc=; b=def=
From: News <news@sender.example>
To: redacted@yahoo.example
Subject: December news
List-Unsubscribe: <https://u.sender.example/u/UTOKEN>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
MIME-Version: 1.0
Content-Type: text/plain

Hello.
------=_Part_3141_59265--
)";

// Microsoft's JMRP in its ARF form: the original as a base64 message/rfc822 attachment.
constexpr std::string_view kArfJmrpHead = R"(From: staff@hotmail.example
To: fbl@sender.example
Subject: complaint about message from 198.51.100.7
MIME-Version: 1.0
X-HmXmrOriginalRecipient: <redacted@outlook.example>
Content-Type: multipart/report; report-type=feedback-report; boundary="--boundary_1_x"

----boundary_1_x
Content-Type: text/plain

This is an email abuse report for an email message received from IP 198.51.100.7.

----boundary_1_x
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Microsoft JMRP
Version: 1
Original-Rcpt-To: redacted@outlook.example
Source-IP: 198.51.100.7

----boundary_1_x
Content-Type: message/rfc822
Content-Disposition: attachment; filename="original.eml"
Content-Transfer-Encoding: base64

)";

constexpr std::string_view kArfJmrpOriginal = R"(X-HmXmrOriginalRecipient: <redacted@outlook.example>
From: News <news@sender.example>
Subject: December news
List-Unsubscribe: <mailto:bounce+UTOKEN@bounce.sender.example?subject=unsubscribe>,
	<https://u.sender.example/u/UTOKEN>

Hello.
)";

constexpr std::string_view kArfJmrpTail = "\n----boundary_1_x--\n";

// qmail's text bounce: no DSN, the status in the remote host's words.
constexpr std::string_view kQmailBounce = R"(Return-Path: <>
Date: 4 Dec 2026 10:15:03 -0000
From: MAILER-DAEMON@mail.sender.example
To: bounce+TOKEN@bounce.sender.example
Subject: failure notice

Hi. This is the qmail-send program at mail.sender.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<nobody@rcpt.example>:
192.0.2.25 does not like recipient.
Remote host said: 550 5.1.1 <nobody@rcpt.example>: Recipient address rejected: User unknown
Giving up on 192.0.2.25.

--- Below this line is a copy of the message.

Return-Path: <bounce+TOKEN@bounce.sender.example>
Subject: December news

Our 4.2.1 release fixes 451 bugs.
)";

// Exim's text bounce (no DSN).
constexpr std::string_view kEximBounce = R"(From: Mail Delivery System <Mailer-Daemon@mx.sender.example>
To: bounce+TOKEN@bounce.sender.example
Subject: Mail delivery failed: returning message to sender
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  nobody@rcpt.example
    host mx.rcpt.example [192.0.2.25]
    SMTP error from remote mail server after RCPT TO:<nobody@rcpt.example>:
    550 5.1.1 <nobody@rcpt.example>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

Return-Path: <bounce+TOKEN@bounce.sender.example>
)";

// An out-of-office reply: no verdict, however much it looks like mail about delivery.
constexpr std::string_view kVacationReply = R"(From: Pat <pat@rcpt.example>
To: bounce+TOKEN@bounce.sender.example
Subject: Automatic reply: December news
Auto-Submitted: auto-replied
X-Autoreply: yes

I am away until 5.1.2027 with no access to mail. Urgent: call 555 1234.
)";

}  // namespace lbmail::feedback::samples
