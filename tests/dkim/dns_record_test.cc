// Tests for DKIM DNS names and TXT character-strings.
#include "lbmail/dkim/dns_record.h"

#include <gtest/gtest.h>

namespace lbmail::dkim {
namespace {

TEST(DnsRecord, DnsNames) {
  for (const char* good : {"example.com", "s1", "mail-2026_a.Example.COM"}) EXPECT_TRUE(signingName(good)) << good;
  for (const char* bad : {"", ".example.com", "example.com.", "a..b", "s 1", "s;1", "a\"b", "ex\r\nample"}) {
    EXPECT_FALSE(signingName(bad)) << bad;
  }
  EXPECT_FALSE(signingName(std::string(254, 'a')));
  EXPECT_EQ(signingName("Example.COM"), "example.com");
}

TEST(DnsRecord, SplitsBeforeTheKeyAndEvery255Octets) {
  std::string p(600, 'A');
  auto strings = txtCharacterStrings("v=DKIM1; k=rsa; p=" + p);
  ASSERT_EQ(strings.size(), 4u);
  EXPECT_EQ(strings[0], "v=DKIM1; k=rsa; ");
  EXPECT_EQ(strings[1], "p=" + p.substr(0, 253));
  EXPECT_EQ(strings[2].size(), 255u);
  EXPECT_EQ(strings[3].size(), 600u + 2 - 510);
  std::string joined;
  for (const auto& s : strings) joined += s;
  EXPECT_EQ(joined, "v=DKIM1; k=rsa; p=" + p);
}

}  // namespace
}  // namespace lbmail::dkim
