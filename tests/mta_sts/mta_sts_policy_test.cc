// The MTA-STS policy grammar (RFC 8461 section 3.2) and MX matching (section 4.1).
#include "lbmail/mta_sts/mta_sts_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbmail::mta_sts {
namespace {

using Mode = MtaStsPolicy::Mode;

std::string errorOf(std::string_view body) {
  auto p = parseMtaStsPolicy(body);
  return p ? "parsed" : p.error();
}

// RFC 8461 section 3.2's example, with CRLF line ends as the RFC writes them.
TEST(MtaStsPolicy, TheRfcExampleParses) {
  auto p = parseMtaStsPolicy(
      "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
      "mx: backupmx.example.com\r\nmax_age: 604800\r\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, Mode::kEnforce);
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net", "backupmx.example.com"}));
  EXPECT_EQ(p->max_age, std::chrono::seconds(604800));
}

TEST(MtaStsPolicy, LfLinesSpacesCaseAndUnknownKeysAreAccepted) {
  auto p = parseMtaStsPolicy("version:STSv1\nmode:\ttesting  \nmx: MX1.Example.COM.\nfuture-key: some value\n\nmax_age: 0");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, Mode::kTesting);
  EXPECT_EQ(p->mx, std::vector<std::string>{"mx1.example.com"});
  EXPECT_EQ(p->max_age, std::chrono::seconds(0));
}

TEST(MtaStsPolicy, ModeNoneNeedsNoMx) {
  auto p = parseMtaStsPolicy("version: STSv1\nmode: none\nmax_age: 86400\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->mode, Mode::kNone);
  EXPECT_TRUE(p->mx.empty());
  EXPECT_EQ(modeName(p->mode), "none");
}

TEST(MtaStsPolicy, MissingOrRepeatedFieldsAreRefused) {
  EXPECT_EQ(errorOf("mode: enforce\nmx: a.example\nmax_age: 1\n"), "no version");
  EXPECT_EQ(errorOf("version: STSv1\nmx: a.example\nmax_age: 1\n"), "no mode");
  EXPECT_EQ(errorOf("version: STSv1\nmode: enforce\nmx: a.example\n"), "no max_age");
  EXPECT_EQ(errorOf("version: STSv1\nmode: enforce\nmax_age: 1\n"), "no mx");
  EXPECT_EQ(errorOf("version: STSv1\nmode: testing\nmode: enforce\n"), "line 3: mode appears more than once");
  EXPECT_EQ(errorOf("version: STSv1\nversion: STSv1\n"), "line 2: version appears more than once");
  EXPECT_EQ(errorOf("max_age: 1\nmax_age: 1\n"), "line 2: max_age appears more than once");
}

TEST(MtaStsPolicy, BadValuesSayWhichLine) {
  EXPECT_EQ(errorOf("version: STSv2\n"), "line 1: version 'STSv2' is not STSv1");
  EXPECT_EQ(errorOf("mode: Enforce\n"), "line 1: mode 'Enforce' is not enforce, testing or none");
  EXPECT_EQ(errorOf("\nmax_age: 31557601\n"), "line 2: max_age '31557601' is not a number of seconds up to 31557600");
  EXPECT_EQ(errorOf("max_age: -1\n"), "line 1: max_age '-1' is not a number of seconds up to 31557600");
  EXPECT_EQ(errorOf("max_age: 00000000001\n"), "line 1: max_age '00000000001' is not a number of seconds up to 31557600");
  EXPECT_EQ(errorOf("mx: *\n"), "line 1: mx '*' is not a host name or a *. pattern");
  EXPECT_EQ(errorOf("mx: a.*.example\n"), "line 1: mx 'a.*.example' is not a host name or a *. pattern");
  EXPECT_EQ(errorOf("mx: a b\n"), "line 1: mx 'a b' is not a host name or a *. pattern");
  EXPECT_EQ(errorOf("<html>\n"), "line 1: no ':'");
  EXPECT_EQ(errorOf(": x\n"), "line 1: malformed key ''");
  EXPECT_EQ(errorOf("bad key: x\n"), "line 1: malformed key 'bad key'");
}

TEST(MtaStsPolicy, TheLargestAgeIsAccepted) {
  auto p = parseMtaStsPolicy("version: STSv1\nmode: none\nmax_age: 31557600\n");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->max_age, kMaxPolicyAge);
}

// RFC 8461 section 3.3 suggests 64 KiB as the limit; a body of exactly that size is read.
TEST(MtaStsPolicy, BodiesOverTheCapAreRefused) {
  std::string body = "version: STSv1\nmode: none\nmax_age: 1\n";
  body += "x: " + std::string(kMaxPolicyBytes - body.size() - 4, 'a') + "\n";
  ASSERT_EQ(body.size(), kMaxPolicyBytes);
  EXPECT_EQ(errorOf(body), "parsed");
  body += "\n";
  EXPECT_EQ(errorOf(body), "policy of 65537 bytes is over the 65536-byte limit");
}

TEST(MtaStsPolicy, ExactNamesMatchInAnyCase) {
  MtaStsPolicy p{Mode::kEnforce, {"mail.example.com"}, std::chrono::seconds(1)};
  EXPECT_TRUE(p.matches("mail.example.com"));
  EXPECT_TRUE(p.matches("MAIL.Example.com."));
  EXPECT_FALSE(p.matches("mail.example.co"));
  EXPECT_FALSE(p.matches("xmail.example.com"));
  EXPECT_FALSE(p.matches(""));
}

// RFC 8461 section 4.1: the wildcard covers one left-most label only.
TEST(MtaStsPolicy, AWildcardMatchesOneLabel) {
  MtaStsPolicy p{Mode::kEnforce, {"*.example.com"}, std::chrono::seconds(1)};
  EXPECT_TRUE(p.matches("mail.example.com"));
  EXPECT_TRUE(p.matches("MX1.EXAMPLE.COM."));
  EXPECT_FALSE(p.matches("example.com"));
  EXPECT_FALSE(p.matches("a.b.example.com"));
  EXPECT_FALSE(p.matches("mailexample.com"));
  EXPECT_FALSE(p.matches(".example.com"));
}

}  // namespace
}  // namespace lbmail::mta_sts
