// STARTTLS on a real connection against a scripted server with TLS (OpenSSL on its side,
// certificates from TestPki): the transaction inside TLS, verification by name and by TLSA
// record, failures (wrong name, untrusted, garbage, a handshake that hangs) and resumption.
#include "smtp_tls_context.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "events.h"
#include "loop_thread.h"
#include "smtp_client_connection.h"
#include "starttls_peer.h"
#include "test_message.h"
#include "test_pki.h"

namespace lbmail::delivery {
namespace {

using namespace std::chrono_literals;
using End = SmtpClientConnection::End;
using StartTls = SmtpClientConnection::StartTls;
using test::Events;
using test::LoopThread;
using test::ScriptedPeer;
using test::ScriptedSmtpServer;
using test::StartTlsPeer;
using test::StartTlsServerContext;
using test::TestPki;

const std::string kBody = "Subject: tls\r\n\r\n.hidden\r\n";

// One connection sending one message when ready, then QUIT; what happened, for the test.
struct TlsRun final : SmtpClientConnection::Handler {
  explicit TlsRun(Events& e) : events(e) {}
  void onConnectionReady(SmtpClientConnection& c) override {
    if (sent) {
      c.quit();
      return;
    }
    sent = true;
    c.send(message, [this](DeliveryResult&& r) { events.update([&] { results.push_back(std::move(r)); }); });
  }
  void onConnectionClosed(SmtpClientConnection& c, End e, const std::string& why) override {
    events.update([&] {
      closed = true;
      end = e;
      reason = why;
      resumed = c.tlsResumed();
    });
  }
  void onTlsSession(SmtpClientConnection&, SharedSslSession s) override { session = std::move(s); }

  Events& events;
  OutgoingMessage message = smtp::test::message(kBody);
  bool sent = false;
  std::vector<DeliveryResult> results;
  bool closed = false;
  End end = End::kAborted;
  std::string reason;
  bool resumed = false;
  SharedSslSession session;
};

SmtpClientSettings fast() {
  SmtpClientSettings s;
  s.helo_name = "client.test";
  s.greeting_timeout = s.mail_timeout = s.rcpt_timeout = s.data_init_timeout = s.data_block_timeout =
      s.data_end_timeout = s.starttls_timeout = 5s;
  return s;
}

TlsRequirement requirement(TlsLevel level, std::string host = "mx.test") {
  TlsRequirement r;
  r.policy = level == TlsLevel::kMay ? TlsPolicy::kOpportunistic : TlsPolicy::kVerify;
  r.level = level;
  r.host = std::move(host);
  return r;
}

// One connection through context to server; resume offered when given.
std::unique_ptr<TlsRun> connectOnce(const SocketAddress& server, const SmtpTlsContext& context,
                                    const TlsRequirement& req, SharedSslSession resume = {},
                                    SmtpClientSettings settings = fast()) {
  Events events;
  LoopThread loop;
  auto run = std::make_unique<TlsRun>(events);
  StartTls mode = req.level == TlsLevel::kMay ? StartTls::kIfOffered : StartTls::kRequired;
  auto connection = std::make_unique<SmtpClientConnection>(loop.loop(), settings, *run);
  loop.call([&] {
    connection->setTls(context, req, mode, std::move(resume));
    connection->connect({}, server);
  });
  EXPECT_TRUE(events.waitFor([&] { return run->closed; }));
  EXPECT_EQ(loop.stop(), 0);
  return run;
}

class SmtpTlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki.ok()) << pki.error(); }
  TestPki pki;
};

TEST_F(SmtpTlsContextTest, TheTransactionGoesInsideTlsAndTheResultSaysHow) {
  StartTlsServerContext server_tls(pki.leaf("mx", {"mx.test"}));
  std::string received;
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    test::acceptOneMessage(tls, &received);
  });
  SmtpTlsContext trusting(pki.caFile());
  ASSERT_EQ(trusting.error(), "");
  auto run = connectOnce(server.address(), trusting, requirement(TlsLevel::kMay));
  ASSERT_EQ(run->results.size(), 1u);
  const DeliveryResult& r = run->results[0];
  EXPECT_EQ(r.outcome, DeliveryOutcome::kDelivered);
  EXPECT_EQ(r.reply.summary(), "250 2.0.0 queued inside TLS");
  EXPECT_TRUE(r.tls.version == "TLSv1.3" || r.tls.version == "TLSv1.2") << r.tls.version;
  EXPECT_FALSE(r.tls.cipher.empty());
  EXPECT_TRUE(r.tls.verified);  // the CA is trusted and the name matches
  EXPECT_FALSE(r.tls.dane);
  EXPECT_EQ(r.tls.policy, TlsPolicy::kOpportunistic);
  EXPECT_EQ(received, "Subject: tls\r\n\r\n..hidden\r\n.\r\n");  // stuffed, as in plain
  EXPECT_EQ(run->end, End::kQuit);

  // Without the CA the session is just as encrypted, but not verified; kMay delivers anyway.
  SmtpTlsContext system_only;
  auto unverified = connectOnce(server.address(), system_only, requirement(TlsLevel::kMay));
  ASSERT_EQ(unverified->results.size(), 1u);
  EXPECT_EQ(unverified->results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_FALSE(unverified->results[0].tls.version.empty());
  EXPECT_FALSE(unverified->results[0].tls.verified);
}

// A server whose certificate fails the check: the handshake ends before a command is sent.
void expectVerifyFailure(const test::TestCertificate& cert, const std::string& ca_file, const std::string& why) {
  StartTlsServerContext server_tls(cert);
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    EXPECT_FALSE(tls.established());
  });
  SmtpTlsContext context(ca_file);
  auto run = connectOnce(server.address(), context, requirement(TlsLevel::kVerify));
  EXPECT_EQ(run->end, End::kTlsFailed);
  EXPECT_NE(run->reason.find("TLS handshake failed: "), std::string::npos) << run->reason;
  EXPECT_NE(run->reason.find("certificate verify failed"), std::string::npos) << run->reason;
  EXPECT_NE(run->reason.find(why), std::string::npos) << run->reason;
  EXPECT_TRUE(run->results.empty());
}

TEST_F(SmtpTlsContextTest, VerifyRefusesACertificateForAnotherName) {
  expectVerifyFailure(pki.leaf("other", {"other.test"}), pki.caFile(), "(hostname mismatch)");
}

TEST_F(SmtpTlsContextTest, VerifyRefusesACertificateNoTrustedCaSigned) {
  expectVerifyFailure(pki.selfSigned("self", {"mx.test"}), pki.caFile(), "self");
  expectVerifyFailure(pki.leaf("private", {"mx.test"}), "", "local issuer");
  expectVerifyFailure(pki.expiredLeaf("expired", {"mx.test"}), pki.caFile(), "expired");
}

TEST_F(SmtpTlsContextTest, MtaStsTestingReportsAFailedCheckWithoutEnforcingIt) {
  StartTlsServerContext server_tls(pki.leaf("other", {"other.test"}));
  std::string received;
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    test::acceptOneMessage(tls, &received);
  });
  SmtpTlsContext context(pki.caFile());
  TlsRequirement testing = requirement(TlsLevel::kMay);
  testing.policy = TlsPolicy::kMtaSts;
  testing.testing = true;
  auto run = connectOnce(server.address(), context, testing);
  ASSERT_EQ(run->results.size(), 1u);
  EXPECT_EQ(run->results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_FALSE(run->results[0].tls.version.empty());
  EXPECT_FALSE(run->results[0].tls.verified);
  EXPECT_EQ(run->results[0].tls.policy, TlsPolicy::kMtaSts);
}

std::vector<uint8_t> fromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

TEST_F(SmtpTlsContextTest, DaneChecksTheCertificateAgainstTheTlsaRecords) {
  // DANE-EE checks the key, not the name nor the CA (RFC 7672 section 3.1.1): a self-signed
  // certificate for another name passes when its key is the one published.
  test::TestCertificate cert = pki.selfSigned("dane", {"elsewhere.test"});
  StartTlsServerContext server_tls(cert);
  std::string received;
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int index) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    if (index == 0) test::acceptOneMessage(tls, &received);
  });
  SmtpTlsContext context;
  TlsRequirement dane = requirement(TlsLevel::kDane);
  dane.policy = TlsPolicy::kDane;
  std::vector<uint8_t> spki = fromHex(pki.publicKeySha256(cert.cert));
  ASSERT_EQ(spki.size(), 32u);
  dane.tlsa = {{1, 1, 1, {}}, {3, 1, 1, spki}};  // the PKIX-EE record is ignored
  auto run = connectOnce(server.address(), context, dane);
  ASSERT_EQ(run->results.size(), 1u);
  EXPECT_EQ(run->results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_TRUE(run->results[0].tls.verified);
  EXPECT_TRUE(run->results[0].tls.dane);

  dane.tlsa = {{3, 1, 1, std::vector<uint8_t>(32, 0xab)}};
  auto mismatch = connectOnce(server.address(), context, dane);
  EXPECT_EQ(mismatch->end, End::kTlsFailed);
  EXPECT_NE(mismatch->reason.find("certificate verify failed"), std::string::npos) << mismatch->reason;
  EXPECT_TRUE(mismatch->results.empty());
}

TEST_F(SmtpTlsContextTest, GarbageInsteadOfAHandshakeIsATlsFailure) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    EXPECT_TRUE(peer.readBytes(5).has_value());  // the ClientHello's record header
    peer.send("250 this is not TLS at all\r\n");
    peer.waitForClose();
  });
  SmtpTlsContext context;
  auto run = connectOnce(server.address(), context, requirement(TlsLevel::kMay));
  EXPECT_EQ(run->end, End::kTlsFailed);
  EXPECT_EQ(run->reason.rfind("TLS handshake failed: ", 0), 0u) << run->reason;
  EXPECT_TRUE(run->results.empty());
}

TEST_F(SmtpTlsContextTest, AHandshakeThatHangsTimesOut) {
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int) {
    test::offerStartTls(peer);
    peer.waitForClose();  // reads the ClientHello, answers nothing
  });
  SmtpTlsContext context;
  SmtpClientSettings settings = fast();
  settings.starttls_timeout = 200ms;
  auto run = connectOnce(server.address(), context, requirement(TlsLevel::kMay), {}, settings);
  EXPECT_EQ(run->end, End::kTlsFailed);
  EXPECT_EQ(run->reason, "TLS handshake timed out");
}

TEST_F(SmtpTlsContextTest, TheNextConnectionResumesTheSession) {
  StartTlsServerContext server_tls(pki.leaf("mx", {"mx.test"}));
  std::vector<bool> server_saw_resumed(2, false);
  ScriptedSmtpServer server([&](ScriptedPeer& peer, int index) {
    test::offerStartTls(peer);
    StartTlsPeer tls(server_tls, peer);
    if (index < 2) server_saw_resumed[static_cast<size_t>(index)] = tls.resumed();
    std::string body;
    test::acceptOneMessage(tls, &body);
  });
  SmtpTlsContext context(pki.caFile());
  TlsRequirement verify = requirement(TlsLevel::kVerify);
  auto first = connectOnce(server.address(), context, verify);
  ASSERT_EQ(first->results.size(), 1u);
  EXPECT_FALSE(first->resumed);
  ASSERT_TRUE(first->session) << "the server issued no session";
  auto second = connectOnce(server.address(), context, verify, first->session);
  ASSERT_EQ(second->results.size(), 1u);
  EXPECT_EQ(second->results[0].outcome, DeliveryOutcome::kDelivered);
  EXPECT_TRUE(second->resumed);
  EXPECT_TRUE(second->results[0].tls.verified);  // as checked when the session was made
  EXPECT_FALSE(server_saw_resumed[0]);
  EXPECT_TRUE(server_saw_resumed[1]);
}

}  // namespace
}  // namespace lbmail::delivery
