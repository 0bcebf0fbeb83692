// Tests for the TLS decisions per MX host (RFC 7672 section 2.2 for DANE).
#include "host_tls.h"

#include <gtest/gtest.h>

namespace lbmail::delivery {
namespace {

using Status = TlsaLookup::Status;

TlsaLookup found(std::vector<dns::TlsaRecord> records, bool authenticated) {
  TlsaLookup l;
  l.status = Status::kFound;
  l.authenticated = authenticated;
  l.records = std::move(records);
  return l;
}

TEST(HostTls, StaticPoliciesMapToLevels) {
  EXPECT_EQ(staticHostTls(TlsPolicy::kNone, "mx").requirement->level, TlsLevel::kNone);
  EXPECT_EQ(staticHostTls(TlsPolicy::kOpportunistic, "mx").requirement->level, TlsLevel::kMay);
  EXPECT_EQ(staticHostTls(TlsPolicy::kEncrypt, "mx").requirement->level, TlsLevel::kEncrypt);
  HostTls v = staticHostTls(TlsPolicy::kVerify, "mx.example.com");
  ASSERT_TRUE(v.requirement);
  EXPECT_EQ(v.requirement->level, TlsLevel::kVerify);
  EXPECT_EQ(v.requirement->host, "mx.example.com");
  EXPECT_EQ(v.requirement->policy, TlsPolicy::kVerify);
}

TEST(HostTls, AuthenticatedUsableRecordsMakeDane) {
  HostTls h = daneHostTls("mx.example.com", found({{3, 1, 1, {1, 2, 3}}, {1, 1, 1, {4}}, {2, 0, 2, {5}}}, true), false);
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kDane);
  EXPECT_EQ(h.requirement->policy, TlsPolicy::kDane);
  // Usage 1 (PKIX-EE) is dropped: RFC 7672 section 3.1.3.
  ASSERT_EQ(h.requirement->tlsa.size(), 2u);
  EXPECT_EQ(h.requirement->tlsa[0].usage, 3);
  EXPECT_EQ(h.requirement->tlsa[1].usage, 2);
}

TEST(HostTls, UnauthenticatedRecordsAreIgnored) {
  HostTls h = daneHostTls("mx.example.com", found({{3, 1, 1, {1, 2, 3}}}, false), true);
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kMay);
  EXPECT_TRUE(h.requirement->tlsa.empty());
}

TEST(HostTls, SecureButUnusableRecordsStillRequireTls) {
  HostTls h = daneHostTls("mx.example.com", found({{0, 0, 1, {1}}, {3, 2, 1, {2}}, {3, 1, 3, {3}}}, true), false);
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kEncrypt);
}

TEST(HostTls, NoRecordsIsOpportunistic) {
  TlsaLookup none;
  none.status = Status::kNone;
  none.authenticated = true;
  HostTls h = daneHostTls("mx.example.com", none, true);
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kMay);
}

TEST(HostTls, FailedLookupRefusesOnlyWhenTheMxWasAuthenticated) {
  TlsaLookup failed;
  failed.status = Status::kFailed;
  failed.reason = "SERVFAIL";
  HostTls secure = daneHostTls("mx.example.com", failed, true);
  EXPECT_FALSE(secure.requirement);
  EXPECT_NE(secure.refusal.find("SERVFAIL"), std::string::npos) << secure.refusal;
  EXPECT_NE(secure.refusal.find("mx.example.com"), std::string::npos) << secure.refusal;
  HostTls insecure = daneHostTls("mx.example.com", failed, false);
  ASSERT_TRUE(insecure.requirement);
  EXPECT_EQ(insecure.requirement->level, TlsLevel::kMay);
}

}  // namespace
}  // namespace lbmail::delivery
