// The TLS policies end to end: the DeliveryEngine resolves MX, A and TLSA through a DNS fixture
// (with AD set or not) and delivers to real receivers: a private Postfix with STARTTLS
// (opportunistic, verify), the lbmail sink with STARTTLS (DANE, RFC 7672) and a scripted
// receiver whose handshake hangs after its 220 (opportunistic falls back to plain, encrypt
// defers). Each case checks what arrived at the receiver as well as the result.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "postfix_tls.h"
#include "scripted_smtp_server.h"
#include "sink_process.h"
#include "tls_delivery.h"

namespace lbmail::delivery::test {
namespace {

using namespace std::chrono_literals;
using lbmail::test::DaneDnsServer;
using lbmail::test::PostfixTlsServer;
using lbmail::test::SinkProcess;
using lbmail::test::TestCertificate;
using lbmail::test::TestPki;

constexpr uint16_t kTypeTlsa = 52;

std::string readFile(const std::string& path) {
  std::ostringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

// ---- Postfix (smtpd_tls_security_level = may) ----

class PostfixTlsDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    PostfixTlsServer::Options o;
    o.domains = {"example.test", "wrong.test"};
    postfix_cert_ = pki_.leaf("postfix", {"mx.postfix.test"});
    o.certificate = postfix_cert_;
    postfix_ = std::make_unique<PostfixTlsServer>(o);
    ASSERT_EQ(postfix_->start(), "");
    uint16_t port = postfix_->address().port();
    // example.test's MX is the name on Postfix's certificate; wrong.test's MX, the same
    // server, is not.
    dns_.addMx("example.test", 10, "mx.postfix.test");
    dns_.addAddress("mx.postfix.test", "127.0.0.1");
    dns_.addMx("wrong.test", 10, "other.postfix.test");
    dns_.addAddress("other.postfix.test", "127.0.0.1");
    resolver_ = fixtureResolver(dns_, port);
  }

  DeliveryConfig config(TlsPolicy policy, const std::string& ca_file = "") {
    return tlsTestConfig(policy, postfix_->address().port(), ca_file);
  }

  TestPki pki_;
  TestCertificate postfix_cert_;
  DaneDnsServer dns_;
  std::unique_ptr<PostfixTlsServer> postfix_;
  dns::ResolverConfig resolver_;
};

TEST_F(PostfixTlsDelivery, OpportunisticArrivesOverTls) {
  TlsEngineRun run(config(TlsPolicy::kOpportunistic), resolver_);
  DeliveryResult r = run.deliverOne("example.test", "alice@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.mx_host, "mx.postfix.test");
  EXPECT_EQ(r.tls.policy, TlsPolicy::kOpportunistic);
  EXPECT_FALSE(r.tls.version.empty());
  EXPECT_FALSE(r.tls.cipher.empty());
  EXPECT_FALSE(r.tls.verified);  // the test CA is not trusted here
  auto files = postfix_->waitForMessages("example.test", 1);
  ASSERT_EQ(files.size(), 1u) << postfix_->log();
  std::string stored = readFile(files[0]);
  // Postfix's own account of the session (smtpd_tls_received_header = yes).
  EXPECT_NE(stored.find("(using " + r.tls.version + " with cipher "), std::string::npos) << stored;
  EXPECT_NE(stored.find("with ESMTPS id "), std::string::npos) << stored;
  EXPECT_NE(stored.find("Message-ID: <alice@example.test>"), std::string::npos) << stored;
}

TEST_F(PostfixTlsDelivery, VerifyDefersWhenTheCertificateNamesAnotherHost) {
  // The CA is trusted: the name is all that is wrong.
  TlsEngineRun run(config(TlsPolicy::kVerify, pki_.caFile()), resolver_);
  DeliveryResult r = run.deliverOne("wrong.test", "bob@wrong.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(r.reason.find("TLS required (verify)"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("hostname mismatch"), std::string::npos) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kVerify);
  EXPECT_EQ(run.stats().tls_failures, 1u);
  EXPECT_EQ(run.stats().tls_plain_fallbacks, 0u);
  run.close();
  EXPECT_TRUE(postfix_->messages("wrong.test").empty());
}

TEST_F(PostfixTlsDelivery, VerifyDefersWithoutTheCaAndDeliversVerifiedWithIt) {
  DeliveryConfig untrusting = config(TlsPolicy::kOpportunistic);
  untrusting.tls.domain_policies = {{"example.test", TlsPolicy::kVerify}};
  {
    TlsEngineRun run(untrusting, resolver_);
    DeliveryResult r = run.deliverOne("example.test", "carol@example.test");
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
    EXPECT_NE(r.reason.find("certificate verify failed"), std::string::npos) << r.reason;
  }
  EXPECT_TRUE(postfix_->messages("example.test").empty());

  DeliveryConfig trusting = untrusting;
  trusting.tls.ca_file = pki_.caFile();  // [smtp] tls_ca_file
  TlsEngineRun run(trusting, resolver_);
  DeliveryResult r = run.deliverOne("example.test", "carol@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kVerify);
  EXPECT_TRUE(r.tls.verified);
  EXPECT_FALSE(r.tls.dane);
  EXPECT_EQ(postfix_->waitForMessages("example.test", 1).size(), 1u);
}

TEST_F(PostfixTlsDelivery, DaneEeRecordForPostfixsKeyDeliversThroughDane) {
  auto tlsa = DaneDnsServer::tlsaForCertificate(postfix_cert_.cert);
  ASSERT_TRUE(tlsa.has_value());
  dns_.addTlsa("_" + std::to_string(postfix_->address().port()) + "._tcp.mx.postfix.test", *tlsa);
  TlsEngineRun run(config(TlsPolicy::kDane), resolver_);
  DeliveryResult r = run.deliverOne("example.test", "dave@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_TRUE(r.tls.dane);
  EXPECT_TRUE(r.tls.verified);
  EXPECT_EQ(postfix_->waitForMessages("example.test", 1).size(), 1u);
}

// ---- DANE against the lbmail sink ----

class DaneDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok()) << pki_.error();
    cert_ = pki_.leaf("mx", {"mx.example.test"});
    // DANE-TA (usage 2) needs the trust anchor in the chain the server shows (RFC 7671
    // section 5.2.2): leaf then CA.
    chain_ = {caBundle(pki_, "mx-chain.pem", {cert_.cert, pki_.caFile()}), cert_.key};
    dns_.addMx("example.test", 10, "mx.example.test");
    dns_.addAddress("mx.example.test", "127.0.0.1");
  }

  // The sink with certificate, started; the TLSA name then follows from its port.
  void startSink(const TestCertificate& certificate) {
    sink_ = std::make_unique<SinkProcess>(sinkTls(certificate));
    ASSERT_TRUE(sink_->start()) << sink_->err();
    tlsa_name_ = "_" + std::to_string(port()) + "._tcp.mx.example.test";
  }
  uint16_t port() const { return sink_->smtp().port(); }
  void addTlsa(const std::string& pem, uint8_t usage) {
    auto tlsa = DaneDnsServer::tlsaForCertificate(pem, usage);
    ASSERT_TRUE(tlsa.has_value()) << pem;
    dns_.addTlsa(tlsa_name_, *tlsa);
  }
  DeliveryResult deliver(const std::string& rcpt) {
    TlsEngineRun run(tlsTestConfig(TlsPolicy::kDane, port()), fixtureResolver(dns_, port()));
    return run.deliverOne("example.test", rcpt);
  }
  std::vector<std::string> arrived() {
    sink_->stop();
    return sink_->messageLog();
  }

  TestPki pki_;
  TestCertificate cert_;
  TestCertificate chain_;
  DaneDnsServer dns_;
  std::unique_ptr<SinkProcess> sink_;
  std::string tlsa_name_;
};

TEST_F(DaneDelivery, DaneEeRecordWithAdDeliversThroughDane) {
  startSink(cert_);
  addTlsa(cert_.cert, 3);
  // No CA is trusted: only the TLSA record can vouch for the certificate.
  DeliveryResult r = deliver("alice@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kDane);
  EXPECT_TRUE(r.tls.dane);
  EXPECT_TRUE(r.tls.verified);
  EXPECT_EQ(dns_.queries(tlsa_name_, kTypeTlsa), 1u);
  auto lines = arrived();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"tls\":\"TLSv1."), std::string::npos) << lines[0];
}

TEST_F(DaneDelivery, DaneTaRecordWithAdDeliversThroughDane) {
  startSink(chain_);
  addTlsa(pki_.caFile(), 2);
  DeliveryResult r = deliver("alice@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_TRUE(r.tls.dane);
  EXPECT_TRUE(r.tls.verified);
  EXPECT_EQ(arrived().size(), 1u);
}

TEST_F(DaneDelivery, RecordsWithoutAdAreNotUsed) {
  startSink(cert_);
  // A record that matches nothing: were it used, the delivery would be deferred.
  addTlsa(pki_.leaf("stranger", {"stranger.test"}).cert, 3);
  // The addresses are secure but the TLSA answer is not (RFC 7672 section 2.2).
  dns_.setAuthenticated(tlsa_name_, false);
  DeliveryResult r = deliver("alice@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kDane);
  EXPECT_FALSE(r.tls.version.empty());
  EXPECT_FALSE(r.tls.dane);
  EXPECT_EQ(dns_.queries(tlsa_name_, kTypeTlsa), 1u);
  // Nothing authenticated at all: no TLSA query is even made (section 2.2.2).
  dns_.setAuthenticated(false);
  r = deliver("bob@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_FALSE(r.tls.dane);
  EXPECT_EQ(dns_.queries(tlsa_name_, kTypeTlsa), 1u);
  EXPECT_EQ(arrived().size(), 2u);
}

TEST_F(DaneDelivery, OpportunisticSaysVerifiedOnlyForTheMxNameTheConnectionWasCheckedFor) {
  startSink(cert_);
  // Two domains, two MX names, one address: they share the unchecked connections, whose
  // certificate names only mx.example.test.
  dns_.addMx("other.test", 10, "mx.other.test");
  dns_.addAddress("mx.other.test", "127.0.0.1");
  TlsEngineRun run(tlsTestConfig(TlsPolicy::kOpportunistic, port(), pki_.caFile()), fixtureResolver(dns_, port()));
  DeliveryResult first = run.deliverOne("example.test", "alice@example.test");
  ASSERT_EQ(first.outcome, DeliveryOutcome::kDelivered) << first.reason;
  EXPECT_TRUE(first.tls.verified);
  DeliveryResult second = run.deliverOne("other.test", "bob@other.test");
  ASSERT_EQ(second.outcome, DeliveryOutcome::kDelivered) << second.reason;
  EXPECT_FALSE(second.tls.version.empty());
  EXPECT_FALSE(second.tls.verified);
  run.close();
  EXPECT_EQ(arrived().size(), 2u);
}

TEST_F(DaneDelivery, MismatchedRecordWithAdDefers) {
  startSink(cert_);
  addTlsa(pki_.leaf("stranger", {"stranger.test"}).cert, 3);
  DeliveryResult r = deliver("alice@example.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(r.reason.find("TLS required (dane)"), std::string::npos) << r.reason;
  EXPECT_EQ(r.tls.policy, TlsPolicy::kDane);
  EXPECT_NE(r.reason.find("certificate verify failed"), std::string::npos) << r.reason;
  EXPECT_TRUE(arrived().empty());
}

TEST_F(DaneDelivery, TlsaServfailForSecureAddressesDefers) {
  startSink(cert_);
  addTlsa(cert_.cert, 3);
  dns_.failQueries(tlsa_name_, kTypeTlsa);
  DeliveryResult r = deliver("alice@example.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(r.reason.find("DANE: TLSA lookup for mx.example.test failed"), std::string::npos) << r.reason;
  EXPECT_TRUE(arrived().empty());
}

TEST_F(DaneDelivery, DaneEeIgnoresTheNamesOnTheCertificate) {
  // RFC 7672 section 3.1.1: with DANE-EE the key is what is checked, not the names.
  TestCertificate elsewhere = pki_.selfSigned("elsewhere", {"elsewhere.test"});
  startSink(elsewhere);
  addTlsa(elsewhere.cert, 3);
  DeliveryResult r = deliver("alice@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_TRUE(r.tls.dane);
  EXPECT_EQ(arrived().size(), 1u);
}

TEST_F(DaneDelivery, ImplicitMxTakesTheDomainsOwnTlsaRecords) {
  // No MX: the domain is its own host (RFC 5321 section 5.1), and its TLSA name is
  // _port._tcp.<domain> (RFC 7672 section 2.2.1).
  startSink(cert_);
  dns_.addAddress("bare.test", "127.0.0.1");
  auto stranger = DaneDnsServer::tlsaForCertificate(pki_.leaf("stranger", {"stranger.test"}).cert);
  ASSERT_TRUE(stranger.has_value());
  dns_.addTlsa("_" + std::to_string(port()) + "._tcp.bare.test", *stranger);
  TlsEngineRun run(tlsTestConfig(TlsPolicy::kDane, port()), fixtureResolver(dns_, port()));
  DeliveryResult r = run.deliverOne("bare.test", "alice@bare.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(r.reason.find("no matching DANE TLSA records"), std::string::npos) << r.reason;
  run.close();
  EXPECT_TRUE(arrived().empty());
}

TEST_F(DaneDelivery, SecureButUnusableRecordsStillRequireTls) {
  // A sink without STARTTLS, and only a PKIX-EE (usage 1) record, which SMTP clients ignore
  // (RFC 7672 section 3.1.3) but which, being secure, still rules out plain text (section 2.2).
  sink_ = std::make_unique<SinkProcess>("");
  ASSERT_TRUE(sink_->start()) << sink_->err();
  tlsa_name_ = "_" + std::to_string(port()) + "._tcp.mx.example.test";
  addTlsa(cert_.cert, 1);
  DeliveryResult r = deliver("alice@example.test");
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
  EXPECT_NE(r.reason.find("TLS required (encrypt): STARTTLS not offered"), std::string::npos) << r.reason;
  EXPECT_TRUE(arrived().empty());
}

TEST_F(DaneDelivery, MismatchedPrimaryMxFailsOverToTheNextOne) {
  startSink(cert_);
  addTlsa(pki_.leaf("stranger", {"stranger.test"}).cert, 3);
  // A second MX on another loopback address, same port, whose record matches.
  TestCertificate backup = pki_.leaf("backup", {"backup.example.test"});
  SinkProcess second(sinkTls(backup), "127.0.0.2:" + std::to_string(port()));
  ASSERT_TRUE(second.start()) << second.err();
  dns_.addMx("example.test", 20, "backup.example.test");
  dns_.addAddress("backup.example.test", "127.0.0.2");
  auto tlsa = DaneDnsServer::tlsaForCertificate(backup.cert);
  ASSERT_TRUE(tlsa.has_value());
  dns_.addTlsa("_" + std::to_string(port()) + "._tcp.backup.example.test", *tlsa);
  DeliveryResult r = deliver("alice@example.test");
  ASSERT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
  EXPECT_EQ(r.mx_host, "backup.example.test");
  EXPECT_EQ(r.attempts, 2u);
  EXPECT_TRUE(r.tls.dane);
  EXPECT_TRUE(arrived().empty());
  second.stop();
  EXPECT_EQ(second.messageLog().size(), 1u);
}

// ---- A receiver whose handshake hangs ----

// Offers STARTTLS on every connection; after its 220 says nothing more (the handshake hangs
// until the client gives up). A session that never asks for TLS may send mail in plain.
class HangingTlsReceiver {
 public:
  HangingTlsReceiver()
      : server_([this](lbmail::test::ScriptedPeer& peer, int) { session(peer); }) {}
  const SocketAddress& address() const { return server_.address(); }
  int accepted() const { return server_.accepted(); }
  int startTlsAnswered() const { return starttls_.load(); }
  int plainMessages() const { return messages_.load(); }

 private:
  void session(lbmail::test::ScriptedPeer& peer) {
    peer.send("220 mx.hang.test ESMTP\r\n");
    if (!peer.readLine()) return;
    peer.send("250-mx.hang.test\r\n250 STARTTLS\r\n");
    while (auto line = peer.readLine()) {
      std::string verb = line->substr(0, 4);
      if (verb == "STAR") {
        peer.send("220 2.0.0 Ready to start TLS\r\n");
        ++starttls_;
        peer.waitForClose();  // the ClientHello is never answered
        return;
      }
      if (verb == "DATA") {
        peer.send("354 go ahead\r\n");
        if (!peer.readUntil("\r\n.\r\n")) return;
        ++messages_;
        peer.send("250 2.0.0 queued\r\n");
      } else if (verb == "QUIT") {
        peer.send("221 2.0.0 bye\r\n");
        return;
      } else {
        peer.send("250 2.0.0 ok\r\n");
      }
    }
  }

  std::atomic<int> starttls_{0};
  std::atomic<int> messages_{0};
  lbmail::test::ScriptedSmtpServer server_;
};

class HangingHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    dns_.addMx("hang.test", 10, "mx.hang.test");
    dns_.addAddress("mx.hang.test", "127.0.0.1");
  }
  std::vector<DeliveryResult> deliver(TlsPolicy policy, size_t n) {
    uint16_t port = receiver_.address().port();
    DeliveryConfig c = tlsTestConfig(policy, port);
    c.client.starttls_timeout = 1s;  // [smtp] starttls_timeout
    c.limits.max_connections = 1;
    TlsEngineRun run(c, fixtureResolver(dns_, port));
    std::vector<std::string> rcpts;
    for (size_t i = 0; i < n; ++i) rcpts.push_back("user" + std::to_string(i) + "@hang.test");
    std::vector<DeliveryResult> out = run.deliver("hang.test", rcpts);
    stats_ = run.stats();
    return out;
  }

  DaneDnsServer dns_;
  HangingTlsReceiver receiver_;
  DeliveryEngineStats stats_;
};

TEST_F(HangingHandshake, OpportunisticTimesOutThenDeliversInPlain) {
  auto results = deliver(TlsPolicy::kOpportunistic, 3);
  ASSERT_EQ(results.size(), 3u);  // nothing lost
  for (const DeliveryResult& r : results) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered) << r.reason;
    EXPECT_EQ(r.tls.version, "");
  }
  EXPECT_EQ(receiver_.startTlsAnswered(), 1);
  EXPECT_EQ(receiver_.plainMessages(), 3);
  EXPECT_EQ(stats_.tls_failures, 1u);
  EXPECT_EQ(stats_.tls_plain_fallbacks, 1u);
}

TEST_F(HangingHandshake, EncryptTimesOutAndDefers) {
  auto results = deliver(TlsPolicy::kEncrypt, 3);
  ASSERT_EQ(results.size(), 3u);  // nothing lost
  for (const DeliveryResult& r : results) {
    EXPECT_EQ(r.outcome, DeliveryOutcome::kDeferred);
    EXPECT_NE(r.reason.find("TLS required (encrypt): TLS handshake timed out"), std::string::npos) << r.reason;
  }
  EXPECT_GE(receiver_.startTlsAnswered(), 1);
  EXPECT_EQ(receiver_.plainMessages(), 0);
  EXPECT_EQ(stats_.tls_plain_fallbacks, 0u);
}

}  // namespace
}  // namespace lbmail::delivery::test
