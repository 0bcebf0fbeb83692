// Tests of TXT, TLSA and address lookups and of the AD bit: every query asks for it, every
// answer and the cache keep what the server said, against a scripted server that sets AD or
// not, and dnsmasq.
#include "lbmail/dns/mx_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "dns_answer.h"
#include "dns_message_builder.h"
#include "mx_resolver_test_support.h"
#include "scripted_dns_server.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;
using test::DnsMessageBuilder;
using test::ScriptedDnsServer;

const std::vector<uint8_t> kDigest(32, 0xab);

// One record owned by the question's name (a pointer to offset 12).
std::vector<uint8_t> answerRecord(uint16_t type, const std::vector<uint8_t>& rdata) {
  return DnsMessageBuilder().pointer(12).fixed(type, kClassIn, 300, rdata).bytes();
}

// A zone for d.test played by a script: MX, A, AAAA, two TXT records and a TLSA record for any
// name, with AD set while `authenticated` is; it notes each query's AD and RD bits.
class SignedZone {
 public:
  ScriptedDnsServer::Script script() {
    return [this](std::span<const uint8_t> q) { return reply(q); };
  }
  std::atomic<bool> authenticated{true};
  std::atomic<int> queries_without_ad{0};
  std::atomic<int> queries_without_rd{0};
  std::atomic<int> queries{0};

 private:
  std::vector<uint8_t> reply(std::span<const uint8_t> q) {
    ++queries;
    if (q.size() < 12 || !(q[3] & kFlagAuthenticData)) ++queries_without_ad;
    if (q.size() < 12 || !(q[2] & 0x01)) ++queries_without_rd;
    bool ad = authenticated;
    switch (ScriptedDnsServer::questionType(q)) {
      case kTypeMx:
        return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeMx, test::mxRdata(10, "mx.d.test")), 1, ad);
      case kTypeA:
        return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeA, {127, 0, 0, 9}), 1, ad);
      case kTypeAaaa: {
        std::vector<uint8_t> v6(16, 0);
        v6[15] = 1;
        return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeAaaa, v6), 1, ad);
      }
      case kTypeTxt: {
        std::vector<uint8_t> tail = answerRecord(kTypeTxt, test::txtRdata({"v=STSv1; ", "id=20240101;"}));
        std::vector<uint8_t> second = answerRecord(kTypeTxt, test::txtRdata({"second"}));
        tail.insert(tail.end(), second.begin(), second.end());
        return ScriptedDnsServer::replyWithAnswer(q, tail, 2, ad);
      }
      case kTypeTlsa:
        return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeTlsa, test::tlsaRdata(3, 1, 1, kDigest)), 1,
                                                  ad);
      default:
        return ScriptedDnsServer::replyWithRcode(q, 4);
    }
  }
};

ResolverConfig configFor(const SocketAddress& server) {
  ResolverConfig config;
  config.servers = {server};
  config.query_timeout = 2s;
  return config;
}

// A resolver asking the signed zone.
class SignedZoneTest : public ::testing::Test {
 protected:
  SignedZone zone_;
  ScriptedDnsServer server_{zone_.script()};
  ResolverOnLoop r{configFor(server_.address())};
};

TEST_F(SignedZoneTest, EveryQueryAsksForTheAdBitWithRecursion) {
  EXPECT_EQ(r.resolve("d.test").status, LookupStatus::kOk);
  EXPECT_EQ(r.lookupTxt("_mta-sts.d.test").status, LookupStatus::kOk);
  EXPECT_EQ(r.lookupTlsa("_25._tcp.mx.d.test").status, LookupStatus::kOk);
  EXPECT_EQ(r.lookupAddresses("mta-sts.d.test").status, LookupStatus::kOk);
  // MX, A and AAAA of mx.d.test, TXT, TLSA, A and AAAA of mta-sts.d.test.
  EXPECT_EQ(zone_.queries.load(), 7);
  EXPECT_EQ(zone_.queries_without_ad.load(), 0);
  EXPECT_EQ(zone_.queries_without_rd.load(), 0);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(SignedZoneTest, TxtRecordsJoinTheirStringsAndKeepTheAdBitInTheCache) {
  TxtAnswer a = r.lookupTxt("_MTA-STS.d.test.");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  EXPECT_EQ(a.texts, (std::vector<std::string>{"v=STSv1; id=20240101;", "second"}));
  EXPECT_TRUE(a.authenticated);
  EXPECT_FALSE(a.from_cache);
  // The server stops vouching; the cached answer still says what it said then.
  zone_.authenticated = false;
  TxtAnswer cached = r.lookupTxt("_mta-sts.d.test");
  EXPECT_TRUE(cached.from_cache);
  EXPECT_TRUE(cached.authenticated);
  EXPECT_EQ(cached.texts, a.texts);
  EXPECT_EQ(zone_.queries.load(), 1);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(SignedZoneTest, AnswersWithoutTheAdBitAreNotAuthenticated) {
  zone_.authenticated = false;
  TxtAnswer txt = r.lookupTxt("_mta-sts.d.test");
  EXPECT_EQ(txt.status, LookupStatus::kOk);
  EXPECT_FALSE(txt.authenticated);
  TlsaAnswer tlsa = r.lookupTlsa("_25._tcp.mx.d.test");
  EXPECT_EQ(tlsa.status, LookupStatus::kOk);
  EXPECT_FALSE(tlsa.authenticated);
  EXPECT_EQ(tlsa.records.size(), 1u);
  MxAnswer mx = r.resolve("d.test");
  ASSERT_EQ(mx.status, LookupStatus::kOk);
  EXPECT_FALSE(mx.authenticated);
  EXPECT_FALSE(mx.targets[0].authenticated);
  EXPECT_FALSE(r.lookupAddresses("mx.d.test").authenticated);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(SignedZoneTest, TlsaRecordsAndMxAnswerSayTheyWereAuthenticated) {
  TlsaAnswer tlsa = r.lookupTlsa("_25._tcp.mx.d.test");
  ASSERT_EQ(tlsa.status, LookupStatus::kOk) << tlsa.reason;
  EXPECT_TRUE(tlsa.authenticated);
  ASSERT_EQ(tlsa.records.size(), 1u);
  EXPECT_EQ(tlsa.records[0], (TlsaRecord{3, 1, 1, kDigest}));
  MxAnswer mx = r.resolve("d.test");
  ASSERT_EQ(mx.status, LookupStatus::kOk) << mx.reason;
  EXPECT_TRUE(mx.authenticated);
  ASSERT_EQ(mx.targets.size(), 1u);
  EXPECT_TRUE(mx.targets[0].authenticated);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(SignedZoneTest, AddressesComeWithoutPortIpv4First) {
  AddressAnswer a = r.lookupAddresses("mta-sts.d.test");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  std::vector<std::string> addresses;
  for (const SocketAddress& address : a.addresses) addresses.push_back(address.toString());
  EXPECT_EQ(addresses, (std::vector<std::string>{"127.0.0.9:0", "[::1]:0"}));
  EXPECT_TRUE(a.authenticated);
  EXPECT_FALSE(a.from_cache);
  EXPECT_TRUE(r.lookupAddresses("mta-sts.d.test").from_cache);
  EXPECT_EQ(zone_.queries.load(), 2);
  EXPECT_EQ(r.close(), 0);
}

// Denials: NXDOMAIN for names under "none", no data for those under "empty", with AD set.
std::vector<uint8_t> denials(std::span<const uint8_t> q) {
  std::string name = ScriptedDnsServer::questionName(q);
  std::vector<uint8_t> reply = ScriptedDnsServer::replyWithRcode(q, name.starts_with("none") ? kRcodeNxDomain : 0);
  reply[3] |= kFlagAuthenticData;
  return reply;
}

TEST(MxResolverRecords, DenialsArePermanentAndMayBeAuthenticated) {
  ScriptedDnsServer server(denials);
  ResolverOnLoop r(configFor(server.address()));
  TlsaAnswer nx = r.lookupTlsa("none.d.test");
  EXPECT_EQ(nx.status, LookupStatus::kPermanent);
  EXPECT_EQ(nx.reason, "NXDOMAIN");
  EXPECT_TRUE(nx.authenticated);  // an authenticated denial (RFC 7672 section 2.2)
  EXPECT_TRUE(nx.records.empty());
  TlsaAnswer nodata = r.lookupTlsa("empty.d.test");
  EXPECT_EQ(nodata.status, LookupStatus::kPermanent);
  EXPECT_EQ(nodata.reason, "no TLSA record");
  TxtAnswer txt = r.lookupTxt("empty.d.test");
  EXPECT_EQ(txt.status, LookupStatus::kPermanent);
  EXPECT_EQ(txt.reason, "no TXT record");
  AddressAnswer addresses = r.lookupAddresses("none.d.test");
  EXPECT_EQ(addresses.status, LookupStatus::kPermanent);
  EXPECT_EQ(addresses.reason, "NXDOMAIN");
  EXPECT_TRUE(addresses.addresses.empty());
  MxAnswer mx = r.resolve("none.d.test");
  EXPECT_EQ(mx.status, LookupStatus::kPermanent);
  EXPECT_TRUE(mx.authenticated);
  EXPECT_EQ(r.close(), 0);
}

TEST(MxResolverRecords, MalformedTxtOrTlsaRdataIsTemporary) {
  ScriptedDnsServer server([](std::span<const uint8_t> q) {
    if (ScriptedDnsServer::questionType(q) == kTypeTlsa) {
      return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeTlsa, {3, 1}), 1, true);
    }
    // One character-string says 10 bytes, 3 follow.
    return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeTxt, {10, 'a', 'b', 'c'}), 1, true);
  });
  ResolverOnLoop r(configFor(server.address()));
  TlsaAnswer tlsa = r.lookupTlsa("_25._tcp.mx.d.test");
  EXPECT_EQ(tlsa.status, LookupStatus::kTemporary);
  EXPECT_EQ(tlsa.reason, "malformed answer: answer: TLSA rdata too short");
  EXPECT_FALSE(tlsa.authenticated);
  TxtAnswer txt = r.lookupTxt("_mta-sts.d.test");
  EXPECT_EQ(txt.status, LookupStatus::kTemporary);
  EXPECT_EQ(txt.reason, "malformed answer: answer: TXT character-string past its rdata");
  EXPECT_EQ(r.close(), 0);
}

// A CNAME the server did not follow: the target's answer is authenticated only if the CNAME's was.
TEST(MxResolverRecords, AFollowedCnameWithoutAdMakesTheAnswerUnauthenticated) {
  ScriptedDnsServer server([](std::span<const uint8_t> q) {
    if (ScriptedDnsServer::questionName(q) == "_25._tcp.alias.d.test") {
      return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeCname, test::encodedName("target.d.test")));
    }
    return ScriptedDnsServer::replyWithAnswer(q, answerRecord(kTypeTlsa, test::tlsaRdata(3, 1, 1, kDigest)), 1, true);
  });
  ResolverOnLoop r(configFor(server.address()));
  TlsaAnswer direct = r.lookupTlsa("target.d.test");
  EXPECT_TRUE(direct.authenticated);
  TlsaAnswer through = r.lookupTlsa("_25._tcp.alias.d.test");
  ASSERT_EQ(through.status, LookupStatus::kOk) << through.reason;
  EXPECT_EQ(through.records.size(), 1u);
  EXPECT_FALSE(through.authenticated);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(SignedZoneTest, InvalidNameIsPermanentAtOnceWithoutAQuery) {
  bool answered_inside = false;
  r.loop().call([&] {
    r.resolver().lookupTlsa("not a name", [&](const TlsaAnswer& a) {
      answered_inside = a.status == LookupStatus::kPermanent && a.reason == "invalid domain";
    });
  });
  EXPECT_TRUE(answered_inside);
  EXPECT_EQ(r.stats().queries_sent, 0u);
  EXPECT_EQ(r.close(), 0);
}

TEST(MxResolverRecords, CloseWithRecordLookupsPendingRunsNoCallback) {
  ScriptedDnsServer silent([](std::span<const uint8_t>) { return std::vector<uint8_t>(); });
  ResolverConfig config = configFor(silent.address());
  config.query_timeout = 10s;
  ResolverOnLoop r(config);
  std::atomic<int> calls{0};
  r.loop().call([&] {
    r.resolver().lookupTxt("a.test", [&](const TxtAnswer&) { ++calls; });
    r.resolver().lookupTlsa("b.test", [&](const TlsaAnswer&) { ++calls; });
    r.resolver().lookupAddresses("c.test", [&](const AddressAnswer&) { ++calls; });
  });
  EXPECT_EQ(silent.waitForQueries(4), 4u);
  EXPECT_EQ(r.close(), 0);
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(SignedZoneTest, CloseFromARecordCallbackStopsTheOthers) {
  std::atomic<int> calls{0};
  Events events;
  bool closed = false;
  r.loop().call([&] {
    for (int i = 0; i < 3; ++i) {
      r.resolver().lookupTxt("_mta-sts.d.test", [&](const TxtAnswer&) {
        if (++calls > 1) return;
        r.resolver().close([&] { events.update([&] { closed = true; }); });
      });
    }
  });
  ASSERT_TRUE(events.waitFor([&] { return closed; }));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(r.stopLoop(), 0);
}

// dnsmasq sets no AD bit for its own records.
TEST_F(MxResolverTest, TxtFromDnsmasqIsNotAuthenticated) {
  ResolverOnLoop r(config_);
  TxtAnswer a = r.lookupTxt("nodata.test");
  ASSERT_EQ(a.status, LookupStatus::kOk) << a.reason;
  EXPECT_EQ(a.texts, std::vector<std::string>{"no mail here"});
  EXPECT_FALSE(a.authenticated);
  EXPECT_EQ(r.close(), 0);
}

}  // namespace
}  // namespace lbmail::dns
