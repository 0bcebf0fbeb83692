// Tests of the DANE fixture through the resolver: the zone a DANE end-to-end test sets up comes
// back as MX, addresses and TLSA records, authenticated or not, and its TLSA for a certificate
// is the digest the openssl command computes.
#include "dane_dns_server.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "dns_answer.h"
#include "mx_resolver_test_support.h"
#include "temp_path.h"

namespace lbmail::dns {
namespace {

using namespace std::chrono_literals;
using lbmail::test::DaneDnsServer;

class DaneDnsServerTest : public ::testing::Test {
 protected:
  DaneDnsServerTest() {
    zone_.addMx("dane.test", 10, "mx.dane.test");
    zone_.addAddress("mx.dane.test", "127.0.0.7");
    zone_.addTlsa("_2525._tcp.mx.dane.test", TlsaRecord{3, 1, 1, std::vector<uint8_t>(32, 1)});
    config_.servers = {zone_.address()};
    config_.query_timeout = 2s;
  }

  DaneDnsServer zone_;
  ResolverConfig config_;
};

TEST_F(DaneDnsServerTest, ServesMxAddressesAndTlsaWithTheAdBit) {
  ResolverOnLoop r(config_);
  MxAnswer mx = r.resolve("DANE.test");
  ASSERT_EQ(mx.status, LookupStatus::kOk) << mx.reason;
  EXPECT_TRUE(mx.authenticated);
  ASSERT_EQ(mx.targets.size(), 1u);
  EXPECT_EQ(mx.targets[0].host, "mx.dane.test");
  EXPECT_TRUE(mx.targets[0].authenticated);
  EXPECT_EQ(addressesOf(mx.targets[0]), std::vector<std::string>{"127.0.0.7:2525"});
  TlsaAnswer tlsa = r.lookupTlsa("_2525._tcp.mx.dane.test");
  ASSERT_EQ(tlsa.status, LookupStatus::kOk) << tlsa.reason;
  EXPECT_TRUE(tlsa.authenticated);
  EXPECT_EQ(tlsa.records, (std::vector<TlsaRecord>{{3, 1, 1, std::vector<uint8_t>(32, 1)}}));
  EXPECT_EQ(zone_.queries("_2525._tcp.mx.dane.test", kTypeTlsa), 1u);
  EXPECT_EQ(zone_.queries("mx.dane.test", kTypeAaaa), 1u);  // no data: the name has an A record
  EXPECT_EQ(r.close(), 0);
}

TEST_F(DaneDnsServerTest, AnswersLoseTheAdBitWhereTheTestSays) {
  zone_.setAuthenticated("_2525._tcp.mx.dane.test", false);
  ResolverOnLoop r(config_);
  EXPECT_TRUE(r.resolve("dane.test").authenticated);
  EXPECT_FALSE(r.lookupTlsa("_2525._tcp.mx.dane.test").authenticated);
  zone_.setAuthenticated(false);
  zone_.addTxt("_mta-sts.dane.test", "v=STSv1; id=1;");
  TxtAnswer txt = r.lookupTxt("_mta-sts.dane.test");
  EXPECT_EQ(txt.texts, std::vector<std::string>{"v=STSv1; id=1;"});
  EXPECT_FALSE(txt.authenticated);
  EXPECT_EQ(r.close(), 0);
}

TEST_F(DaneDnsServerTest, UnknownNamesAreDeniedAndFailingOnesServfail) {
  zone_.failQueries("_25._tcp.broken.dane.test", kTypeTlsa);
  ResolverOnLoop r(config_);
  TlsaAnswer none = r.lookupTlsa("_25._tcp.other.dane.test");
  EXPECT_EQ(none.status, LookupStatus::kPermanent);
  EXPECT_EQ(none.reason, "NXDOMAIN");
  EXPECT_TRUE(none.authenticated);
  TlsaAnswer nodata = r.lookupTlsa("mx.dane.test");
  EXPECT_EQ(nodata.reason, "no TLSA record");
  TlsaAnswer failed = r.lookupTlsa("_25._tcp.broken.dane.test");
  EXPECT_EQ(failed.status, LookupStatus::kTemporary);
  EXPECT_FALSE(failed.authenticated);
  EXPECT_EQ(r.close(), 0);
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string out;
  char two[3];
  for (uint8_t b : bytes) {
    std::snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}

TEST(DaneDnsServerTlsa, DigestOfTheCertificatesKeyMatchesOpenssl) {
  std::string key = lbmail::test::tempPath("dane.key");
  std::string cert = lbmail::test::tempPath("dane.pem");
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=mx.dane.test"
                         " -days 1 -keyout " + key + " -out " + cert + " 2>/dev/null").c_str()),
            0);
  std::string spki = run("openssl x509 -in " + cert + " -noout -pubkey | openssl pkey -pubin -outform DER | "
                         "openssl dgst -sha256 -r");
  std::string whole = run("openssl x509 -in " + cert + " -outform DER | openssl dgst -sha512 -r");
  auto ee = DaneDnsServer::tlsaForCertificate(cert);
  ASSERT_TRUE(ee);
  EXPECT_EQ((std::vector<uint8_t>{ee->usage, ee->selector, ee->matching_type}), (std::vector<uint8_t>{3, 1, 1}));
  EXPECT_EQ(hex(ee->data), spki.substr(0, 64));
  auto full = DaneDnsServer::tlsaForCertificate(cert, 2, 0, 2);
  ASSERT_TRUE(full);
  EXPECT_EQ(hex(full->data), whole.substr(0, 128));
  EXPECT_FALSE(DaneDnsServer::tlsaForCertificate(key));  // a key is not a certificate
  std::remove(key.c_str());
  std::remove(cert.c_str());
}

}  // namespace
}  // namespace lbmail::dns
