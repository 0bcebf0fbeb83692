// Tests for src/core/mailbox.cc: RFC 5321 mailbox syntax and limits.
#include "lbmail/core/mailbox.h"

#include <gtest/gtest.h>

#include <string>

namespace lbmail {
namespace {

TEST(Mailbox, AcceptsOrdinaryAndUnusualValidAddresses) {
  for (const char* ok : {"alice@example.com", "a.b+tag@mail.example.co.uk", "x@localhost", "\"john doe\"@example.com",
                         "\"a\\\"b\"@example.com", "user@[192.0.2.1]", "o'brien@example.ie", "a@b-c.d"}) {
    EXPECT_EQ(mailboxError(ok), nullptr) << ok;
  }
}

TEST(Mailbox, RefusesBadSyntaxWithAReason) {
  for (const char* bad : {"", "alice", "alice@", "@example.com", ".a@example.com", "a.@example.com", "a..b@example.com",
                          "a b@example.com", "a@exa mple.com", "a@-example.com", "a@example-.com", "a@example..com",
                          "a@[1.2.3.4", "\"unterminated@example.com", "a<b@example.com", "é@example.com"}) {
    EXPECT_NE(mailboxError(bad), nullptr) << bad;
  }
}

TEST(Mailbox, RefusesAnglesInQuotedLocalParts) {
  for (const char* bad : {"\"a>b\"@example.com", "\"<a\"@example.com", "\"a\\>\"@example.com"}) {
    EXPECT_STREQ(mailboxError(bad), "'<' or '>' in quoted local part (receivers misread the path)") << bad;
  }
  EXPECT_STREQ(mailboxError("\"a\\\x01\"@example.com"), "control or non-ASCII character in local part");
}

TEST(Mailbox, RefusesLineBreaksAndNul) {
  EXPECT_NE(mailboxError("a@example.com\r\nRCPT TO:<b@evil.test>"), nullptr);
  EXPECT_NE(mailboxError(std::string("a\0b@example.com", 15)), nullptr);
  EXPECT_NE(mailboxError("\"a\r\n\"@example.com"), nullptr);
}

TEST(Mailbox, EnforcesLengthLimits) {
  std::string local(64, 'a');
  EXPECT_EQ(mailboxError(local + "@example.com"), nullptr);
  EXPECT_STREQ(mailboxError(local + "a@example.com"), "local part longer than 64 octets");
  std::string label(63, 'b');
  EXPECT_EQ(mailboxError("a@" + label + ".com"), nullptr);
  EXPECT_STREQ(mailboxError("a@" + label + "b.com"), "domain label longer than 63 octets");
  std::string long_domain = label + "." + label + "." + label + "." + label;  // 255 octets
  EXPECT_STREQ(mailboxError("a@" + long_domain), "address longer than 254 octets");
}

TEST(Mailbox, DomainIsAfterTheLastAt) {
  EXPECT_EQ(mailboxDomain("\"a@b\"@example.com"), "example.com");
  EXPECT_EQ(mailboxDomain("nodomain"), "");
}

}  // namespace
}  // namespace lbmail
