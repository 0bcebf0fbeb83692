// Tests of domain normalisation.
#include "lbmail/dns/domain_name.h"

#include <gtest/gtest.h>

namespace lbmail::dns {
namespace {

TEST(DomainName, LowerCaseWithoutTrailingDot) {
  EXPECT_EQ(normalizeDomain("Example.COM."), "example.com");
  EXPECT_EQ(normalizeDomain("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(normalizeDomain("_dmarc.a-b.test"), "_dmarc.a-b.test");
}

TEST(DomainName, RefusesWhatDnsCannotCarryOrCaresWouldReadAsEscapes) {
  EXPECT_FALSE(normalizeDomain(""));
  EXPECT_FALSE(normalizeDomain("."));
  EXPECT_FALSE(normalizeDomain("a..b"));
  EXPECT_FALSE(normalizeDomain(".a"));
  EXPECT_FALSE(normalizeDomain("a.b.."));
  EXPECT_FALSE(normalizeDomain("bad\\.name"));
  EXPECT_FALSE(normalizeDomain("sp ace.test"));
  EXPECT_FALSE(normalizeDomain(std::string_view("nul\0.test", 9)));
  EXPECT_FALSE(normalizeDomain(std::string(64, 'a') + ".test"));
  EXPECT_TRUE(normalizeDomain(std::string(63, 'a') + ".test"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "test";  // 254 bytes
  EXPECT_FALSE(normalizeDomain(long_name));
  EXPECT_TRUE(normalizeDomain(long_name.substr(1)));
}

}  // namespace
}  // namespace lbmail::dns
