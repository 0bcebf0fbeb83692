// Tests of reading one answer into a cacheable result: CNAME chains, TTL clamps, negative TTLs.
#include "record_reader.h"

#include <ares.h>
#include <gtest/gtest.h>

#include "dns_answer.h"
#include "dns_message_builder.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;
using test::DnsMessageBuilder;
using Kind = RecordSet::Kind;

class RecordReaderTest : public ::testing::Test {
 protected:
  RecordReaderTest() {
    config_.smtp_port = 2525;
    config_.min_ttl = 10s;
    config_.max_ttl = 1h;
    config_.negative_ttl_max = 5min;
    config_.temporary_failure_ttl = 7s;
  }
  RecordReading read(const std::string& name, uint16_t type, const DnsMessageBuilder& b) {
    return RecordReader(config_).read(name, type, ARES_SUCCESS, b.bytes(), now_);
  }
  Duration lifetime(const RecordSet& set) const { return set.expires - now_; }

  ResolverConfig config_;
  TimePoint now_ = std::chrono::steady_clock::now();
};

TEST_F(RecordReaderTest, MxRecordsLiveForTheirSmallestTtl) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 2).question("example.test", kTypeMx);
  b.record("example.test", kTypeMx, 300, test::mxRdata(10, "mx1.example.test"));
  b.record("example.test", kTypeMx, 200, test::mxRdata(20, "mx2.example.test"));
  RecordReading r = read("example.test", kTypeMx, b);
  ASSERT_EQ(r.set.kind, Kind::kRecords);
  ASSERT_EQ(r.set.exchanges.size(), 2u);
  EXPECT_EQ(r.set.exchanges[1].host, "mx2.example.test");
  EXPECT_EQ(r.set.exchanges[1].preference, 20);
  EXPECT_EQ(lifetime(r.set), Duration(200s));
  EXPECT_TRUE(r.follow.empty());
}

TEST_F(RecordReaderTest, TtlsAreClampedToMinAndMax) {
  DnsMessageBuilder low;
  low.header(kRcodeNoError, 1, 1).question("h.test", kTypeA).record("h.test", kTypeA, 1, test::aRdata({10, 0, 0, 1}));
  EXPECT_EQ(lifetime(read("h.test", kTypeA, low).set), Duration(10s));
  DnsMessageBuilder high;
  high.header(kRcodeNoError, 1, 1).question("h.test", kTypeA);
  high.record("h.test", kTypeA, 86400, test::aRdata({10, 0, 0, 1}));
  RecordReading r = read("h.test", kTypeA, high);
  EXPECT_EQ(lifetime(r.set), Duration(1h));
  ASSERT_EQ(r.set.addresses.size(), 1u);
  EXPECT_EQ(r.set.addresses[0].toString(), "10.0.0.1:2525");
}

TEST_F(RecordReaderTest, CnameChainInTheAnswerLeadsToTheRecords) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 4).question("a.test", kTypeA);
  b.record("other.test", kTypeA, 300, test::aRdata({10, 0, 0, 9}));  // not on the chain: ignored
  b.record("a.test", kTypeCname, 50, test::encodedName("b.test"));
  b.record("b.test", kTypeCname, 300, test::encodedName("c.test"));
  b.record("c.test", kTypeA, 300, test::aRdata({10, 0, 0, 3}));
  RecordReading r = read("a.test", kTypeA, b);
  ASSERT_EQ(r.set.kind, Kind::kRecords);
  ASSERT_EQ(r.set.addresses.size(), 1u);
  EXPECT_EQ(r.set.addresses[0].toString(), "10.0.0.3:2525");
  EXPECT_EQ(r.hops, 2);
  EXPECT_EQ(lifetime(r.set), Duration(50s));  // the CNAME's TTL is the smallest on the way
}

TEST_F(RecordReaderTest, CnameWithoutTheTargetsRecordsAsksToFollow) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 1).question("alias.test", kTypeMx);
  b.record("alias.test", kTypeCname, 120, test::encodedName("Target.test"));
  RecordReading r = read("alias.test", kTypeMx, b);
  EXPECT_EQ(r.follow, "target.test");
  EXPECT_EQ(lifetime(r.set), Duration(120s));
}

TEST_F(RecordReaderTest, CnameLoopInTheAnswerIsATemporaryFailure) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 2).question("a.test", kTypeA);
  b.record("a.test", kTypeCname, 60, test::encodedName("b.test"));
  b.record("b.test", kTypeCname, 60, test::encodedName("a.test"));
  RecordReading r = read("a.test", kTypeA, b);
  EXPECT_EQ(r.set.kind, Kind::kTemporary);
  EXPECT_NE(r.set.reason.find("CNAME chain"), std::string::npos) << r.set.reason;
  EXPECT_TRUE(r.follow.empty());
  EXPECT_EQ(lifetime(r.set), Duration(7s));
}

TEST_F(RecordReaderTest, NegativeAnswersLiveAsTheSoaSaysWithinTheMaximum) {
  DnsMessageBuilder soa;
  soa.header(kRcodeNxDomain, 1, 0, 1).question("gone.test", kTypeMx).record("test", kTypeSoa, 120, test::soaRdata(60));
  RecordReading r = read("gone.test", kTypeMx, soa);
  EXPECT_EQ(r.set.kind, Kind::kNxDomain);
  EXPECT_EQ(lifetime(r.set), Duration(60s));

  DnsMessageBuilder long_soa;
  long_soa.header(kRcodeNoError, 1, 0, 1).question("empty.test", kTypeMx);
  long_soa.record("test", kTypeSoa, 86400, test::soaRdata(86400));
  r = read("empty.test", kTypeMx, long_soa);
  EXPECT_EQ(r.set.kind, Kind::kNoData);
  EXPECT_EQ(lifetime(r.set), Duration(5min));

  // dnsmasq's negative answers carry no SOA: the maximum applies.
  DnsMessageBuilder bare;
  bare.header(kRcodeNoError, 1, 0).question("empty.test", kTypeMx);
  r = read("empty.test", kTypeMx, bare);
  EXPECT_EQ(r.set.kind, Kind::kNoData);
  EXPECT_EQ(lifetime(r.set), Duration(5min));
}

TEST_F(RecordReaderTest, NxDomainAfterACnameIsAboutTheTarget) {
  DnsMessageBuilder b;
  b.header(kRcodeNxDomain, 1, 1).question("alias.test", kTypeA);
  b.record("alias.test", kTypeCname, 30, test::encodedName("gone.test"));
  RecordReading r = read("alias.test", kTypeA, b);
  EXPECT_EQ(r.set.kind, Kind::kNxDomain);
  EXPECT_TRUE(r.follow.empty());
  EXPECT_EQ(lifetime(r.set), Duration(30s));
}

TEST_F(RecordReaderTest, ServerFailuresAndMissingAnswersAreTemporary) {
  DnsMessageBuilder servfail;
  servfail.header(kRcodeServFail, 1, 0).question("h.test", kTypeA);
  RecordReading r = read("h.test", kTypeA, servfail);
  EXPECT_EQ(r.set.kind, Kind::kTemporary);
  EXPECT_EQ(r.set.reason, "SERVFAIL");

  RecordReader reader(config_);
  EXPECT_EQ(reader.read("h.test", kTypeA, ARES_ETIMEOUT, {}, now_).set.reason, "timeout");
  EXPECT_EQ(reader.read("h.test", kTypeA, ARES_ECONNREFUSED, {}, now_).set.reason,
            "SERVFAIL, REFUSED or unreachable");
  EXPECT_EQ(reader.read("h.test", kTypeA, ARES_EREFUSED, {}, now_).set.reason, "REFUSED");
  EXPECT_EQ(reader.read("h.test", kTypeA, ARES_ENOTFOUND, {}, now_).set.kind, Kind::kNxDomain);

  std::vector<uint8_t> garbage = {1, 2, 3};
  r = reader.read("h.test", kTypeA, ARES_SUCCESS, garbage, now_);
  EXPECT_EQ(r.set.kind, Kind::kTemporary);
  EXPECT_NE(r.set.reason.find("malformed answer"), std::string::npos) << r.set.reason;
  EXPECT_EQ(lifetime(r.set), Duration(7s));
}

// A response whose header has the AD bit set.
DnsMessageBuilder authenticated(DnsMessageBuilder b) {
  std::vector<uint8_t> bytes = b.bytes();
  DnsMessageBuilder out;
  for (size_t i = 0; i < bytes.size(); ++i) out.u8(i == 3 ? static_cast<uint8_t>(bytes[i] | kFlagAuthenticData) : bytes[i]);
  return out;
}

TEST_F(RecordReaderTest, TxtAndTlsaRecordsAreCollectedAlongTheChain) {
  DnsMessageBuilder txt;
  txt.header(kRcodeNoError, 1, 3).question("_mta-sts.d.test", kTypeTxt);
  txt.record("_mta-sts.d.test", kTypeCname, 600, test::encodedName("sts.d.test"));
  txt.record("sts.d.test", kTypeTxt, 300, test::txtRdata({"v=STSv1; ", "id=7;"}));
  txt.record("sts.d.test", kTypeTxt, 300, test::txtRdata({"other"}));
  RecordReading r = read("_mta-sts.d.test", kTypeTxt, txt);
  ASSERT_EQ(r.set.kind, Kind::kRecords);
  EXPECT_EQ(r.set.texts, (std::vector<std::string>{"v=STSv1; id=7;", "other"}));
  EXPECT_TRUE(r.set.addresses.empty());
  EXPECT_EQ(lifetime(r.set), Duration(300s));

  DnsMessageBuilder tlsa;
  tlsa.header(kRcodeNoError, 1, 1).question("_25._tcp.mx.d.test", kTypeTlsa);
  tlsa.record("_25._tcp.mx.d.test", kTypeTlsa, 300, test::tlsaRdata(2, 0, 1, std::vector<uint8_t>(32, 7)));
  r = read("_25._tcp.mx.d.test", kTypeTlsa, tlsa);
  ASSERT_EQ(r.set.kind, Kind::kRecords);
  ASSERT_EQ(r.set.tlsa.size(), 1u);
  EXPECT_EQ(r.set.tlsa[0], (TlsaRecord{2, 0, 1, std::vector<uint8_t>(32, 7)}));
  EXPECT_FALSE(r.set.authenticated);
}

TEST_F(RecordReaderTest, TheAdBitIsKeptForRecordsDenialsAndCnamesToFollow) {
  DnsMessageBuilder records;
  records.header(kRcodeNoError, 1, 1).question("h.test", kTypeA).record("h.test", kTypeA, 60, test::aRdata({1, 2, 3, 4}));
  EXPECT_FALSE(read("h.test", kTypeA, records).set.authenticated);
  EXPECT_TRUE(read("h.test", kTypeA, authenticated(records)).set.authenticated);

  DnsMessageBuilder nx;
  nx.header(kRcodeNxDomain, 1, 0).question("gone.test", kTypeTlsa);
  RecordReading r = read("gone.test", kTypeTlsa, authenticated(nx));
  EXPECT_EQ(r.set.kind, Kind::kNxDomain);
  EXPECT_TRUE(r.set.authenticated);

  DnsMessageBuilder cname;
  cname.header(kRcodeNoError, 1, 1).question("alias.test", kTypeTlsa);
  cname.record("alias.test", kTypeCname, 120, test::encodedName("target.test"));
  r = read("alias.test", kTypeTlsa, authenticated(cname));
  EXPECT_EQ(r.follow, "target.test");
  EXPECT_TRUE(r.set.authenticated);

  // A failure vouches for nothing, whatever its header says.
  DnsMessageBuilder servfail;
  servfail.header(kRcodeServFail, 1, 0).question("h.test", kTypeTlsa);
  EXPECT_FALSE(read("h.test", kTypeTlsa, authenticated(servfail)).set.authenticated);
}

}  // namespace
}  // namespace lbmail::dns
