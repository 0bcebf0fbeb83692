// Tests of the DNS answer walker: real dnsmasq answers, hand-built ones, and broken ones.
#include "dns_answer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "dns_message_builder.h"
#include "validate.h"

namespace lbmail::dns {
namespace {

using test::DnsMessageBuilder;

std::vector<uint8_t> corpusFile(const std::string& name) {
  std::string path = lbmail::test::testEnv("LBMAIL_SOURCE_ROOT") + "/tests/dns/fuzz_corpus/dns_answer/" + name;
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// example.test MX with two exchanges, the second one compressed against the question.
DnsMessageBuilder twoMx() {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 2).question("Example.TEST", kTypeMx);
  b.pointer(12).fixed(kTypeMx, kClassIn, 300, test::mxRdata(10, "MX1.example.test"));
  std::vector<uint8_t> rdata = {0, 20, 3, 'm', 'x', '2', 0xc0, 12};  // "mx2" + pointer to the qname
  b.pointer(12).fixed(kTypeMx, kClassIn, 120, rdata);
  return b;
}

TEST(DnsAnswer, ReadsMxRecordsWithTtlsThroughCompression) {
  auto a = parseDnsAnswer(twoMx().bytes());
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->rcode, kRcodeNoError);
  ASSERT_EQ(a->answers.size(), 2u);
  EXPECT_EQ(a->answers[0].owner, "example.test");
  EXPECT_EQ(a->answers[0].type, kTypeMx);
  EXPECT_EQ(a->answers[0].ttl, 300u);
  EXPECT_EQ(a->answers[0].preference, 10);
  EXPECT_EQ(a->answers[0].target, "mx1.example.test");
  EXPECT_EQ(a->answers[1].ttl, 120u);
  EXPECT_EQ(a->answers[1].preference, 20);
  EXPECT_EQ(a->answers[1].target, "mx2.example.test");
  EXPECT_FALSE(a->negative_ttl);
}

TEST(DnsAnswer, ReadsAddressesAndCnames) {
  DnsMessageBuilder b;
  std::vector<uint8_t> v6(16, 0);
  v6[15] = 1;
  b.header(kRcodeNoError, 1, 3).question("alias.test", kTypeA);
  b.record("alias.test", kTypeCname, 60, test::encodedName("host.test"));
  b.record("host.test", kTypeA, 30, test::aRdata({192, 0, 2, 7}));
  b.record("host.test", kTypeAaaa, 30, v6);
  auto a = parseDnsAnswer(b.bytes());
  ASSERT_TRUE(a) << a.error();
  ASSERT_EQ(a->answers.size(), 3u);
  EXPECT_EQ(a->answers[0].target, "host.test");
  EXPECT_EQ(a->answers[1].address[0], 192);
  EXPECT_EQ(a->answers[1].address[3], 7);
  EXPECT_EQ(a->answers[2].address[15], 1);
}

TEST(DnsAnswer, NegativeTtlIsTheSmallerOfSoaTtlAndMinimum) {
  DnsMessageBuilder b;
  b.header(kRcodeNxDomain, 1, 0, 1).question("gone.test", kTypeMx);
  b.record("test", kTypeSoa, 600, test::soaRdata(90));
  auto a = parseDnsAnswer(b.bytes());
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->rcode, kRcodeNxDomain);
  ASSERT_TRUE(a->negative_ttl);
  EXPECT_EQ(*a->negative_ttl, 90u);

  DnsMessageBuilder c;
  c.header(kRcodeNoError, 1, 0, 1).question("gone.test", kTypeMx);
  c.record("test", kTypeSoa, 45, test::soaRdata(3600));
  auto d = parseDnsAnswer(c.bytes());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(*d->negative_ttl, 45u);
}

TEST(DnsAnswer, SkipsOtherTypesAndClassesAndReadsHighBitTtlAsZero) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 3).question("example.test", kTypeMx);
  b.record("example.test", 13, 300, {1, 'h', 4, 'l', 'i', 'n', 'x'});                // HINFO
  b.record("example.test", kTypeMx, 300, test::mxRdata(5, "chaos.test"), 3);         // class CH
  b.record("example.test", kTypeMx, 0x80000001u, test::mxRdata(5, "mx.example.test"));
  auto a = parseDnsAnswer(b.bytes());
  ASSERT_TRUE(a) << a.error();
  ASSERT_EQ(a->answers.size(), 1u);
  EXPECT_EQ(a->answers[0].target, "mx.example.test");
  EXPECT_EQ(a->answers[0].ttl, 0u);
}

TEST(DnsAnswer, EveryTruncationOfAValidMessageIsAnError) {
  std::vector<uint8_t> whole = twoMx().bytes();
  ASSERT_TRUE(parseDnsAnswer(whole));
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<long>(n));
    EXPECT_FALSE(parseDnsAnswer(cut)) << "cut at " << n;
  }
}

TEST(DnsAnswer, CompressionLoopIsAnError) {
  DnsMessageBuilder self;
  self.header(kRcodeNoError, 1, 0).pointer(12).u16(kTypeMx).u16(1);  // the qname points at itself
  auto a = parseDnsAnswer(self.bytes());
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find("question"), std::string::npos) << a.error();

  DnsMessageBuilder pair;
  pair.header(kRcodeNoError, 1, 1).question("example.test", kTypeMx);
  size_t owner = pair.size();
  pair.pointer(static_cast<uint16_t>(owner + 14));  // owner -> the exchange, after TYPE..RDLENGTH and PREFERENCE
  std::vector<uint8_t> rdata = {0, 10, static_cast<uint8_t>(0xc0 | (owner >> 8)), static_cast<uint8_t>(owner)};
  pair.fixed(kTypeMx, kClassIn, 300, rdata);  // exchange -> the owner
  auto b = parseDnsAnswer(pair.bytes());
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().find("answer"), std::string::npos) << b.error();
}

TEST(DnsAnswer, PointerPastTheEndIsAnError) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 1).question("example.test", kTypeMx);
  b.pointer(0x3ff0).fixed(kTypeMx, kClassIn, 300, test::mxRdata(10, "mx.test"));
  EXPECT_FALSE(parseDnsAnswer(b.bytes()));
}

TEST(DnsAnswer, RdataLengthPastTheEndIsAnError) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 1).question("example.test", kTypeA);
  b.name("example.test").u16(kTypeA).u16(kClassIn).u32(300).u16(40).u8(127).u8(0).u8(0).u8(1);
  auto a = parseDnsAnswer(b.bytes());
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find("rdata past the end"), std::string::npos) << a.error();
}

TEST(DnsAnswer, RdataOfTheWrongShapeIsAnError) {
  DnsMessageBuilder a5;
  a5.header(kRcodeNoError, 1, 1).question("h.test", kTypeA).record("h.test", kTypeA, 1, {1, 2, 3, 4, 5});
  EXPECT_FALSE(parseDnsAnswer(a5.bytes()));
  DnsMessageBuilder aaaa4;
  aaaa4.header(kRcodeNoError, 1, 1).question("h.test", kTypeAaaa).record("h.test", kTypeAaaa, 1, {1, 2, 3, 4});
  EXPECT_FALSE(parseDnsAnswer(aaaa4.bytes()));
  // An exchange whose labels run past RDLENGTH into the next record.
  DnsMessageBuilder mx;
  mx.header(kRcodeNoError, 1, 2).question("d.test", kTypeMx);
  mx.name("d.test").u16(kTypeMx).u16(kClassIn).u32(1).u16(4).u16(10).u8(3).u8('a');
  mx.u8('b').u8('c').u8(0).u16(kTypeA).u16(kClassIn).u32(1).u16(4).u32(0x7f000001);
  auto m = parseDnsAnswer(mx.bytes());
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("MX exchange"), std::string::npos) << m.error();
  DnsMessageBuilder soa;
  soa.header(kRcodeNxDomain, 1, 0, 1).question("d.test", kTypeMx);
  soa.record("test", kTypeSoa, 1, test::encodedName("ns.test"));  // MNAME alone
  EXPECT_FALSE(parseDnsAnswer(soa.bytes()));
}

TEST(DnsAnswer, ReadsTheAdBit) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 0).question("h.test", kTypeTlsa);
  auto plain = parseDnsAnswer(b.bytes());
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_FALSE(plain->authenticated);
  std::vector<uint8_t> bytes = b.bytes();
  bytes[3] |= kFlagAuthenticData;
  auto ad = parseDnsAnswer(bytes);
  ASSERT_TRUE(ad) << ad.error();
  EXPECT_TRUE(ad->authenticated);
  EXPECT_EQ(ad->rcode, kRcodeNoError);
}

TEST(DnsAnswer, TxtCharacterStringsAreJoinedPerRecord) {
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 3).question("_mta-sts.d.test", kTypeTxt);
  b.pointer(12).fixed(kTypeTxt, kClassIn, 60, test::txtRdata({"v=STSv1; ", "", "id=1;"}));
  b.pointer(12).fixed(kTypeTxt, kClassIn, 60, test::txtRdata({"Quoted \"; as sent"}));
  b.pointer(12).fixed(kTypeTxt, kClassIn, 60, {});  // no string at all: read as an empty text
  auto a = parseDnsAnswer(b.bytes());
  ASSERT_TRUE(a) << a.error();
  ASSERT_EQ(a->answers.size(), 3u);
  EXPECT_EQ(a->answers[0].type, kTypeTxt);
  EXPECT_EQ(a->answers[0].text, "v=STSv1; id=1;");
  EXPECT_EQ(a->answers[1].text, "Quoted \"; as sent");
  EXPECT_EQ(a->answers[2].text, "");
  std::string full(255, 'x');
  DnsMessageBuilder big;
  big.header(kRcodeNoError, 1, 1).question("d.test", kTypeTxt);
  big.pointer(12).fixed(kTypeTxt, kClassIn, 60, test::txtRdata({full, full}));
  auto two = parseDnsAnswer(big.bytes());
  ASSERT_TRUE(two) << two.error();
  EXPECT_EQ(two->answers[0].text, full + full);
}

TEST(DnsAnswer, ReadsTlsaRecords) {
  std::vector<uint8_t> digest(32);
  for (size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<uint8_t>(i);
  DnsMessageBuilder b;
  b.header(kRcodeNoError, 1, 2).question("_25._tcp.mx.d.test", kTypeTlsa);
  b.pointer(12).fixed(kTypeTlsa, kClassIn, 60, test::tlsaRdata(3, 1, 1, digest));
  b.pointer(12).fixed(kTypeTlsa, kClassIn, 60, test::tlsaRdata(9, 9, 9, {}));  // unusable, still read
  auto a = parseDnsAnswer(b.bytes());
  ASSERT_TRUE(a) << a.error();
  ASSERT_EQ(a->answers.size(), 2u);
  EXPECT_EQ(a->answers[0].owner, "_25._tcp.mx.d.test");
  EXPECT_EQ(a->answers[0].tlsa, (TlsaRecord{3, 1, 1, digest}));
  EXPECT_EQ(a->answers[1].tlsa, (TlsaRecord{9, 9, 9, {}}));
}

TEST(DnsAnswer, MalformedTxtAndTlsaRdataAreErrors) {
  // A character-string longer than what is left of its rdata, though the message goes on.
  DnsMessageBuilder txt;
  txt.header(kRcodeNoError, 1, 2).question("d.test", kTypeTxt);
  txt.pointer(12).fixed(kTypeTxt, kClassIn, 60, {3, 'a', 'b', 5, 'c'});
  txt.pointer(12).fixed(kTypeTxt, kClassIn, 60, test::txtRdata({"next"}));
  auto t = parseDnsAnswer(txt.bytes());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), "answer: TXT character-string past its rdata");
  for (size_t length : {0, 1, 2}) {
    DnsMessageBuilder tlsa;
    tlsa.header(kRcodeNoError, 1, 1).question("d.test", kTypeTlsa);
    tlsa.pointer(12).fixed(kTypeTlsa, kClassIn, 60, std::vector<uint8_t>(length, 3));
    auto a = parseDnsAnswer(tlsa.bytes());
    ASSERT_FALSE(a) << length;
    EXPECT_EQ(a.error(), "answer: TLSA rdata too short");
  }
}

TEST(DnsAnswer, BoundsOnSizeAndRecordCount) {
  EXPECT_FALSE(parseDnsAnswer(std::vector<uint8_t>(11, 0)));
  EXPECT_FALSE(parseDnsAnswer(std::vector<uint8_t>(kMaxDnsMessage + 1, 0)));
  DnsMessageBuilder many;
  many.header(kRcodeNoError, 1, kMaxAnswerRecords + 1).question("h.test", kTypeA);
  for (size_t i = 0; i <= kMaxAnswerRecords; ++i) many.pointer(12).fixed(kTypeA, kClassIn, 1, {127, 0, 0, 1});
  auto a = parseDnsAnswer(many.bytes());
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find("more than 1024"), std::string::npos) << a.error();
}

// The seed corpus holds answers captured from dnsmasq; they must read as dnsmasq meant them.
TEST(DnsAnswer, ReadsAnswersCapturedFromDnsmasq) {
  auto mx = parseDnsAnswer(corpusFile("mx_three_hosts"));
  ASSERT_TRUE(mx) << mx.error();
  ASSERT_EQ(mx->answers.size(), 3u);
  for (const DnsRecord& r : mx->answers) {
    EXPECT_EQ(r.owner, "example.test");
    EXPECT_EQ(r.ttl, 300u);
  }
  auto cname = parseDnsAnswer(corpusFile("cname_then_mx"));
  ASSERT_TRUE(cname) << cname.error();
  ASSERT_EQ(cname->answers.size(), 4u);
  EXPECT_EQ(cname->answers[0].type, kTypeCname);
  EXPECT_EQ(cname->answers[0].target, "example.test");
  auto null_mx = parseDnsAnswer(corpusFile("null_mx"));
  ASSERT_TRUE(null_mx) << null_mx.error();
  ASSERT_EQ(null_mx->answers.size(), 1u);
  EXPECT_EQ(null_mx->answers[0].target, "");
  EXPECT_EQ(null_mx->answers[0].preference, 0);
  auto nx = parseDnsAnswer(corpusFile("nxdomain"));
  ASSERT_TRUE(nx) << nx.error();
  EXPECT_EQ(nx->rcode, kRcodeNxDomain);
  EXPECT_TRUE(nx->answers.empty());
  auto soa = parseDnsAnswer(corpusFile("nxdomain_with_soa"));
  ASSERT_TRUE(soa) << soa.error();
  ASSERT_TRUE(soa->negative_ttl);
  EXPECT_EQ(*soa->negative_ttl, 60u);
}

}  // namespace
}  // namespace lbmail::dns
