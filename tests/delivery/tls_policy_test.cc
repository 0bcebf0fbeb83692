// Tests for TLS policy names and the pool key of a requirement.
#include "lbmail/delivery/tls_policy.h"

#include <gtest/gtest.h>

namespace lbmail::delivery {
namespace {

TEST(TlsPolicy, NamesRoundTrip) {
  for (TlsPolicy p : {TlsPolicy::kNone, TlsPolicy::kOpportunistic, TlsPolicy::kEncrypt, TlsPolicy::kVerify,
                      TlsPolicy::kDane, TlsPolicy::kMtaSts}) {
    std::optional<TlsPolicy> back = parseTlsPolicy(tlsPolicyName(p));
    ASSERT_TRUE(back) << tlsPolicyName(p);
    EXPECT_EQ(*back, p);
  }
  EXPECT_FALSE(parseTlsPolicy("Verify"));
  EXPECT_FALSE(parseTlsPolicy(""));
  EXPECT_FALSE(parseTlsPolicy("mta_sts"));
}

TEST(TlsPolicy, KeysTellApartWhatMakesConnectionsDifferent) {
  TlsRequirement may;
  TlsRequirement verify{TlsPolicy::kVerify, TlsLevel::kVerify, "mx.example.com", {}, false};
  TlsRequirement other_host = verify;
  other_host.host = "mx2.example.com";
  TlsRequirement sts = verify;
  sts.policy = TlsPolicy::kMtaSts;
  sts.level = TlsLevel::kMay;
  sts.testing = true;
  sts.host = "mx3.example.com";
  TlsRequirement testing = sts;
  testing.host = "mx4.example.com";
  // Testing connections are their own kind, shared by the MX names like the unchecked ones.
  EXPECT_EQ(sts.key(), testing.key());
  testing.level = TlsLevel::kEncrypt;
  TlsRequirement dane{TlsPolicy::kDane, TlsLevel::kDane, "mx.example.com", {{3, 1, 1, {0xab, 0x01}}}, false};
  TlsRequirement dane_other = dane;
  dane_other.tlsa[0].data[1] = 0x02;
  std::vector<std::string> keys = {may.key(),     verify.key(),  other_host.key(), sts.key(),
                                   testing.key(), dane.key(),    dane_other.key()};
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = i + 1; j < keys.size(); ++j) EXPECT_NE(keys[i], keys[j]) << i << " " << j;
  }
  EXPECT_EQ(dane.key(), TlsRequirement(dane).key());
  // Unchecked levels share connections whatever the host or the policy that asked.
  TlsRequirement may_other{TlsPolicy::kDane, TlsLevel::kMay, "mx9.example.net", {}, false};
  EXPECT_EQ(may.key(), may_other.key());
  TlsRequirement encrypt{TlsPolicy::kEncrypt, TlsLevel::kEncrypt, "a.example", {}, false};
  TlsRequirement encrypt_other{TlsPolicy::kEncrypt, TlsLevel::kEncrypt, "b.example", {}, false};
  EXPECT_EQ(encrypt.key(), encrypt_other.key());
  EXPECT_NE(encrypt.key(), may.key());
  EXPECT_NE(dane.key().find("311:ab01"), std::string::npos) << dane.key();
}

}  // namespace
}  // namespace lbmail::delivery
