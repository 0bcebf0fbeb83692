// Tests for the TLS decisions per MX host (RFC 7672 section 2.2 for DANE).
#include "host_tls.h"

#include <gtest/gtest.h>

namespace lbmail::delivery {
namespace {

using Status = TlsaLookup::Status;

std::vector<uint8_t> digest(size_t n, uint8_t fill) { return std::vector<uint8_t>(n, fill); }

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
  HostTls h = daneHostTls("mx.example.com", found({{3, 1, 1, digest(32, 1)}, {1, 1, 1, digest(32, 4)}, {2, 0, 2, digest(64, 5)}}, true));
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kDane);
  EXPECT_EQ(h.requirement->policy, TlsPolicy::kDane);
  // Usage 1 (PKIX-EE) is dropped: RFC 7672 section 3.1.3.
  ASSERT_EQ(h.requirement->tlsa.size(), 2u);
  EXPECT_EQ(h.requirement->tlsa[0].usage, 3);
  EXPECT_EQ(h.requirement->tlsa[1].usage, 2);
}

TEST(HostTls, UnauthenticatedRecordsAreIgnored) {
  HostTls h = daneHostTls("mx.example.com", found({{3, 1, 1, digest(32, 1)}}, false));
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kMay);
  EXPECT_TRUE(h.requirement->tlsa.empty());
}

TEST(HostTls, SecureButUnusableRecordsStillRequireTls) {
  HostTls h = daneHostTls("mx.example.com", found({{0, 0, 1, {1}}, {3, 2, 1, {2}}, {3, 1, 3, {3}}}, true));
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kEncrypt);
}

TEST(HostTls, MalformedRecordsAreUnusableSoTlsIsMandatoryUnauthenticated) {
  // A SHA-256 of 31 octets, a SHA-512 of 32, a "whole certificate" and a "whole key" that do
  // not parse: none can match, and RFC 7672 section 2.2 then asks for TLS without a check.
  HostTls h = daneHostTls("mx.example.com", found({{3, 1, 1, digest(31, 1)}, {3, 1, 2, digest(32, 2)},
                                                   {3, 0, 0, digest(100, 3)}, {2, 1, 0, digest(60, 4)}},
                                                  true));
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kEncrypt);
  EXPECT_TRUE(h.requirement->tlsa.empty());
}

TEST(HostTls, NoRecordsIsOpportunistic) {
  TlsaLookup none;
  none.status = Status::kNone;
  none.authenticated = true;
  HostTls h = daneHostTls("mx.example.com", none);
  ASSERT_TRUE(h.requirement);
  EXPECT_EQ(h.requirement->level, TlsLevel::kMay);
}

TEST(HostTls, FailedLookupRefusesTheHost) {
  TlsaLookup failed;
  failed.status = Status::kFailed;
  failed.reason = "SERVFAIL";
  HostTls h = daneHostTls("mx.example.com", failed);
  EXPECT_FALSE(h.requirement);
  EXPECT_NE(h.refusal.find("SERVFAIL"), std::string::npos) << h.refusal;
  EXPECT_NE(h.refusal.find("mx.example.com"), std::string::npos) << h.refusal;
}

mta_sts::MtaStsPolicy policy(mta_sts::MtaStsPolicy::Mode mode) {
  mta_sts::MtaStsPolicy p;
  p.mode = mode;
  p.mx = {"mx1.example.com", "*.backup.example.com"};
  p.max_age = std::chrono::seconds(86400);
  return p;
}

TEST(HostTls, MtaStsEnforceVerifiesMatchingHostsAndRefusesOthers) {
  mta_sts::MtaStsPolicy p = policy(mta_sts::MtaStsPolicy::Mode::kEnforce);
  HostTls ok = mtaStsHostTls("a.backup.example.com", &p);
  ASSERT_TRUE(ok.requirement);
  EXPECT_EQ(ok.requirement->level, TlsLevel::kVerify);
  EXPECT_EQ(ok.requirement->policy, TlsPolicy::kMtaSts);
  EXPECT_EQ(ok.requirement->host, "a.backup.example.com");
  HostTls no = mtaStsHostTls("mx.attacker.example", &p);
  EXPECT_FALSE(no.requirement);
  EXPECT_NE(no.refusal.find("mx.attacker.example"), std::string::npos) << no.refusal;
  EXPECT_NE(no.refusal.find("mx1.example.com"), std::string::npos) << no.refusal;
}

TEST(HostTls, MtaStsTestingNoneAndAbsentAreOpportunistic) {
  mta_sts::MtaStsPolicy testing = policy(mta_sts::MtaStsPolicy::Mode::kTesting);
  HostTls t = mtaStsHostTls("mx.attacker.example", &testing);
  ASSERT_TRUE(t.requirement);
  EXPECT_EQ(t.requirement->level, TlsLevel::kMay);
  EXPECT_TRUE(t.requirement->testing);
  mta_sts::MtaStsPolicy none = policy(mta_sts::MtaStsPolicy::Mode::kNone);
  HostTls n = mtaStsHostTls("mx1.example.com", &none);
  ASSERT_TRUE(n.requirement);
  EXPECT_EQ(n.requirement->level, TlsLevel::kMay);
  EXPECT_FALSE(n.requirement->testing);
  HostTls absent = mtaStsHostTls("mx1.example.com", nullptr);
  ASSERT_TRUE(absent.requirement);
  EXPECT_EQ(absent.requirement->level, TlsLevel::kMay);
}

}  // namespace
}  // namespace lbmail::delivery
