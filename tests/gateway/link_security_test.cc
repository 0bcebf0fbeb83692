// The link's security (issue 17) over real processes on loopback: `lbmail initiator`, `lbmail
// gateway` and `lbmail sink`, with what an attacker brings: a keyless relay on the path
// (tests/support/link_relay.py) that reads and injects, a plaintext version-2 client, a wrong
// key, TLS without the key, a certificate from another CA, a link spliced onto another gateway;
// and a second implementation (tests/support/link_interop.py: Python's HKDF and openssl s_client)
// that must interoperate.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "child_process.h"
#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "lbmail/proto/frame_codec.h"
#include "log_fields.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

constexpr int kDomains = 4;
constexpr auto kCampaignBound = std::chrono::seconds(120);

std::string recipientOf(int i) { return "user" + std::to_string(i) + "@d" + std::to_string(i % kDomains) + ".test"; }
// A merge-field value that could not appear in the relayed bytes by chance.
std::string firstNameOf(int i) { return "Quillon" + std::to_string(i) + "x"; }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string supportScript(const std::string& name) {
  return test::testEnv("LBMAIL_SOURCE_ROOT") + "/tests/support/" + name;
}

// A key file other than the gateway's, as the link requires it (mode 0600).
std::string otherKeyFile(const std::string& name) {
  std::string path = test::tempPath(name);
  std::ofstream(path) << "another key, also longer than sixteen bytes\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

// The bytes of a plaintext SEND from an attacker, from the frame codec.
std::string attackerSend() {
  proto::MergeField fields[] = {{"first_name", "Mallory"}};
  proto::SendFrame send;
  send.request_id = 424242;
  send.sender = "attacker@evil.test";
  send.recipient = "victim@d1.test";
  send.material_id = 1;
  send.fields = proto::MergeFields(fields);
  BufferList out;
  proto::encodeFrame(out, send);
  std::string bytes;
  for (const uv_buf_t& b : out.uvBufs()) bytes.append(b.base, b.len);
  return bytes;
}

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Everything the relay captured, all connections and both directions, in one string.
std::string capturedBytes(const std::string& dir, int* files) {
  std::string all;
  *files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    all += readFile(entry.path());
    ++*files;
  }
  return all;
}

// The keyless relay, started as a process and stopped by pid.
class Relay {
 public:
  Relay(const SocketAddress& target, const std::string& capture_dir, const std::vector<std::string>& attacks) {
    std::vector<std::string> argv{test::testEnv("LBMAIL_PYTHON"), supportScript("link_relay.py"), "--target",
                                  target.toString(), "--capture-dir", capture_dir};
    for (const std::string& a : attacks) {
      argv.push_back("--attack");
      argv.push_back(a);
    }
    child_ = std::make_unique<test::ChildProcess>(argv);
  }
  bool start() {
    auto line = child_->waitForStderrLine("event=relay.listening");
    if (line) address_ = *test::addrField(*line);
    return line.has_value();
  }
  bool await(const std::string& needle) { return child_->waitForStderrLine(needle).has_value(); }
  void stop() {
    child_->signal(SIGTERM);
    child_->wait();
  }
  const SocketAddress& address() const { return address_; }
  const std::string& err() const { return child_->err(); }

 private:
  std::unique_ptr<test::ChildProcess> child_;
  SocketAddress address_;
};

class LinkSecurityEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(dns_.start(), "");
    sink_ = std::make_unique<test::SinkProcess>("");
    ASSERT_TRUE(sink_->start()) << sink_->err();
  }

  test::GatewayOptions gatewayOptions() {
    test::GatewayOptions go;
    go.smtp_port = sink_->smtp().port();
    go.dns_server = dns_.address().toString();
    go.capacity = 100;
    return go;
  }

  std::unique_ptr<test::GatewayProcess> startGateway(const test::GatewayOptions& go) {
    auto g = std::make_unique<test::GatewayProcess>(go);
    EXPECT_TRUE(g->start()) << g->err();
    return g;
  }

  // A recipient database of n recipients, filled by `lbmail import` from a CSV written here.
  std::string database(const std::string& name, int n) {
    std::string csv = test::tempPath(name + ".csv");
    std::string db = test::tempPath(name + ".db");
    std::filesystem::remove(db);
    std::ofstream out(csv);
    out << "email,first_name\n";
    for (int i = 0; i < n; ++i) out << recipientOf(i) << "," << firstNameOf(i) << "\n";
    out.close();
    test::ChildProcess import({test::testEnv("LBMAIL_BINARY"), "import", csv, "--db", db});
    EXPECT_EQ(test::exitCode(import.wait()), 0) << import.err();
    return db;
  }

  test::InitiatorOptions campaign(const std::string& db, const test::InitiatorGateway& gateway) {
    test::InitiatorOptions o;
    o.database = db;
    o.gateways = {gateway};
    // A short failover_grace: SENDs lost with a torn-down link are sent again soon.
    o.campaign_extra =
        "retry_schedule = [\"200ms\"]\nmax_attempts = 4\nbatch_size = 50\nfailover_grace = \"300ms\"\n";
    return o;
  }

  // Times each recipient arrived at the sink, from its message log.
  std::map<std::string, int> received() {
    std::map<std::string, int> m;
    for (const std::string& line : sink_->messageLog()) {
      size_t at = line.find("\"recipients\":[\"");
      if (at == std::string::npos) continue;
      at += 15;
      ++m[line.substr(at, line.find('"', at) - at)];
    }
    return m;
  }

  // The campaign ran to its end over the link: exit 0, every recipient delivered exactly once.
  void expectEveryRecipientOnce(test::InitiatorProcess& initiator, int n) {
    ASSERT_EQ(initiator.waitForExit(kCampaignBound), 0) << initiator.err().substr(0, 4000);
    EXPECT_NE(initiator.err().find("delivered=" + std::to_string(n) + " "), std::string::npos) << initiator.err();
    ASSERT_EQ(sink_->stop(), 0);
    auto counts = received();
    EXPECT_EQ(counts.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(counts[recipientOf(i)], 1) << recipientOf(i);
  }

  // An initiator that must be refused: the side that finds the fault logs it with the reason (a
  // line holding both needles; a gateway logs every failed handshake as link.refused, the first
  // of each address in an interval); the other side sees the link end; nothing is sent or
  // delivered.
  struct Refusal {
    std::string gateway_event = "event=link.refused";
    std::string gateway_detail = {};
    std::string initiator_event = "event=link.closed role=initiator";
    std::string initiator_detail = {};

    // The side that found the fault logs detail as the reason; its TLS alert (RFC 8446 section
    // 6.2) tells the other side why.
    static Refusal byGateway(const std::string& detail) {
      return {.gateway_detail = detail, .initiator_event = "event=link.tls_failed", .initiator_detail = "alert"};
    }
    static Refusal byInitiator(const std::string& detail) {
      return {.gateway_detail = "alert", .initiator_event = "event=link.tls_failed", .initiator_detail = detail};
    }
  };
  void expectRefused(test::GatewayProcess& gateway, const test::InitiatorGateway& entry, const Refusal& r) {
    test::InitiatorProcess initiator(campaign(database("refused", 5), entry));
    ASSERT_TRUE(initiator.start()) << initiator.err();
    auto at_gateway = gateway.child().waitForStderrLine(r.gateway_event);
    ASSERT_TRUE(at_gateway) << gateway.err();
    EXPECT_NE(at_gateway->find(r.gateway_detail), std::string::npos) << *at_gateway;
    auto at_initiator = initiator.waitForStderrLine(r.initiator_event, std::chrono::seconds(20));
    ASSERT_TRUE(at_initiator) << initiator.err();
    EXPECT_NE(at_initiator->find(r.initiator_detail), std::string::npos) << *at_initiator;
    EXPECT_EQ(initiator.campaignCount("sent"), 0);
    initiator.stop();
    EXPECT_EQ(gateway.stop(), 0);
    EXPECT_EQ(gateway.err().find("event=link.up"), std::string::npos) << gateway.err();
    EXPECT_EQ(initiator.err().find("event=link.up"), std::string::npos) << initiator.err();
    EXPECT_EQ(sink_->stop(), 0);
    EXPECT_TRUE(sink_->messageLog().empty());
  }

  test::DnsmasqServer dns_{test::loopbackMxRecords(kDomains)};
  std::unique_ptr<test::SinkProcess> sink_;
};

TEST_F(LinkSecurityEndToEnd, AKeylessRelayReadsNoAddressAndInjectsNothingTheGatewayActsOn) {
  constexpr int kRecipients = 200;
  auto gateway = startGateway(gatewayOptions());
  std::string capture = test::tempPath("relay-capture");
  std::filesystem::remove_all(capture);
  // Connection 1: a plaintext SEND injected after the initiator's third TLS record; connection
  // 2: one bit flipped inside that record; later connections pass untouched.
  Relay relay(gateway->link(), capture, {"frame:" + hex(attackerSend()), "flip"});
  ASSERT_TRUE(relay.start()) << relay.err();
  test::InitiatorProcess initiator(campaign(database("relay", kRecipients),
                                            {gateway->name(), relay.address(), gateway->keyFile()}));
  ASSERT_TRUE(initiator.start()) << initiator.err();

  // The gateway refuses each tampered stream at the TLS layer and tears the link down; the
  // initiator connects again.
  EXPECT_TRUE(relay.await("event=relay.injected conn=1 kind=frame")) << relay.err();
  EXPECT_TRUE(gateway->child().waitForStderrLine("event=link.tls_failed")) << gateway->err();
  EXPECT_TRUE(relay.await("event=relay.injected conn=2 kind=flip")) << relay.err();
  auto flipped = gateway->child().waitForStderrLine("event=link.tls_failed");
  ASSERT_TRUE(flipped) << gateway->err();
  EXPECT_NE(flipped->find("bad record mac"), std::string::npos) << *flipped;  // RFC 8446 section 5.2
  expectEveryRecipientOnce(initiator, kRecipients);
  relay.stop();
  EXPECT_EQ(gateway->stop(), 0);

  // The attacker's SEND never reached a receiver, nor the gateway's log.
  EXPECT_NE(relay.err().find("event=relay.closed conn=2"), std::string::npos) << relay.err();
  EXPECT_NE(relay.err().find("event=relay.accepted conn=3"), std::string::npos) << relay.err();
  for (const std::string& line : sink_->messageLog()) EXPECT_EQ(line.find("attacker@"), std::string::npos) << line;
  EXPECT_EQ(gateway->err().find("attacker@"), std::string::npos);

  // What crossed the relay: the TLS handshake's names in clear, no address and no field value.
  int files = 0;
  std::string bytes = capturedBytes(capture, &files);
  EXPECT_GE(files, 6);  // three connections or more, both directions
  EXPECT_GT(bytes.size(), static_cast<size_t>(kRecipients * 50));
  EXPECT_NE(bytes.find(gateway->name()), std::string::npos) << "the capture holds the SNI";
  std::vector<std::string> in_clear;
  for (int i = 0; i < kRecipients; ++i) {
    for (const std::string& secret : {recipientOf(i), firstNameOf(i)}) {
      if (bytes.find(secret) != std::string::npos) in_clear.push_back(secret);
    }
  }
  EXPECT_EQ(in_clear.size(), 0u) << "crossed in clear, first: " << (in_clear.empty() ? "" : in_clear.front());
  EXPECT_EQ(bytes.find("@d1.test"), std::string::npos);
}

TEST_F(LinkSecurityEndToEnd, AWrongKeyIsRefused) {
  auto gateway = startGateway(gatewayOptions());
  // The PSK binder proves the key (RFC 8446 section 4.2.11.2).
  expectRefused(*gateway, {gateway->name(), gateway->link(), otherKeyFile("wrong.key")},
                Refusal::byGateway("binder does not verify"));
}

TEST_F(LinkSecurityEndToEnd, AnInitiatorThatMeantGatewayAIsRefusedByGatewayB) {
  // Gateway B holds the same key file as A; only the name bound into the PSK differs.
  test::GatewayOptions go = gatewayOptions();
  go.name = "gateway-b";
  auto b = startGateway(go);
  expectRefused(*b, {"gateway-a", b->link(), b->keyFile()}, Refusal::byGateway("'lbmail-link/3 gateway-a'"));
}

TEST_F(LinkSecurityEndToEnd, PlaintextVersion1And2ClientsGetAPlaintextGoodbyeSayingTlsIsNeeded) {
  auto gateway = startGateway(gatewayOptions());
  for (uint8_t version : {uint8_t{1}, uint8_t{2}}) {
    SCOPED_TRACE(static_cast<int>(version));
    // The old handshake's opening: AUTH_CHALLENGE (type 2), a 32-byte nonce and no proof.
    std::string challenge = std::string("LB") + static_cast<char>(version) + '\x02' + std::string("\0\0", 2) +
                            std::string("\x21\0\0\0", 4) + std::string(32, '\x5a') + '\0';
    test::TcpClient client(gateway->link());
    ASSERT_TRUE(client.send(challenge));
    std::string answer = client.readUntilClosed();
    ASSERT_GE(answer.size(), proto::kHeaderSize) << hex(answer);
    EXPECT_EQ(answer[2], static_cast<char>(version)) << "in the peer's own framing";
    answer[2] = static_cast<char>(proto::kProtocolVersion);  // to read it with today's codec
    auto split = proto::splitFrame(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(answer.data()), answer.size()), 4096);
    ASSERT_EQ(split.status, proto::SplitStatus::kFrame) << hex(answer);
    ASSERT_EQ(split.header.type, proto::FrameType::kGoodbye);
    auto frame = proto::decodePayload(split.header.type, split.payload);
    ASSERT_TRUE(frame);
    const auto& bye = std::get<proto::GoodbyeFrame>(*frame);
    EXPECT_EQ(bye.reason, proto::GoodbyeReason::kProtocolError);
    EXPECT_EQ(bye.text, "link version 3 needs TLS 1.3: this initiator speaks an older plaintext link");
    EXPECT_EQ(split.consumed, answer.size()) << "nothing after the GOODBYE";
    if (version == 1) {  // the second refusal from this address within the interval is not logged
      auto logged = gateway->child().waitForStderrLine("event=link.refused");
      ASSERT_TRUE(logged) << gateway->err();
      EXPECT_NE(logged->find("link version 1, without TLS"), std::string::npos) << *logged;
    }
  }
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_EQ(gateway->err().find("event=link.up"), std::string::npos);
}

TEST_F(LinkSecurityEndToEnd, ATlsClientWithoutTheKeyIsRefused) {
  auto gateway = startGateway(gatewayOptions());
  test::ChildProcess client({test::testEnv("LBMAIL_OPENSSL"), "s_client", "-connect", gateway->link().toString(),
                             "-tls1_3", "-alpn", "lbmail-link/3", "-servername", gateway->name()});
  int status = client.wait();
  EXPECT_NE(test::exitCode(status), 0) << client.out() << client.err();
  EXPECT_NE(client.out().find("Cipher is (NONE)"), std::string::npos) << client.out() << client.err();
  auto logged = gateway->child().waitForStderrLine("event=link.refused");
  ASSERT_TRUE(logged) << gateway->err();
  EXPECT_NE(logged->find("TLS handshake failed"), std::string::npos) << *logged;
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_EQ(gateway->err().find("event=link.up"), std::string::npos);
}

// Certificate mode: two private CAs from tests/support/make_link_certs.sh.
class LinkCertificates : public LinkSecurityEndToEnd {
 protected:
  void SetUp() override {
    LinkSecurityEndToEnd::SetUp();
    dir_ = test::tempPath("link-certs");
    std::filesystem::remove_all(dir_);
    test::ChildProcess make({"/bin/bash", supportScript("make_link_certs.sh"), dir_, "gateway-cert", "gateway-other"});
    ASSERT_EQ(test::exitCode(make.wait()), 0) << make.err();
  }

  test::GatewayOptions certificateGateway(const std::string& name, const std::string& cert) {
    test::GatewayOptions go = gatewayOptions();
    go.name = name;
    go.tls_ca_file = dir_ + "/ca-a.pem";
    go.tls_cert_file = dir_ + "/" + cert + ".pem";
    go.tls_key_file = dir_ + "/" + cert + ".key";
    return go;
  }

  test::InitiatorGateway entry(const std::string& name, const SocketAddress& link, const std::string& cert) {
    test::InitiatorGateway g{name, link, ""};
    g.tls_ca_file = dir_ + "/ca-a.pem";
    g.tls_cert_file = dir_ + "/" + cert + ".pem";
    g.tls_key_file = dir_ + "/" + cert + ".key";
    return g;
  }

  // Gateway name with the certificate cert, and an initiator that meant gateway-cert presenting
  // initiator_cert: refused as r says.
  void expectRefusedWith(const std::string& name, const std::string& cert, const std::string& initiator_cert,
                         const Refusal& r) {
    auto gateway = startGateway(certificateGateway(name, cert));
    expectRefused(*gateway, entry("gateway-cert", gateway->link(), initiator_cert), r);
  }

  std::string dir_;
};

// An encrypted key would make OpenSSL ask for its passphrase on the terminal; the gateway must
// refuse it at once, saying why, with no terminal prompt and no hang.
TEST_F(LinkCertificates, AnEncryptedKeyIsRefusedAtStartWithoutAPrompt) {
  std::string encrypted = dir_ + "/gateway-encrypted.key";
  test::ChildProcess enc({test::testEnv("LBMAIL_OPENSSL"), "pkey", "-in", dir_ + "/gateway.key", "-out", encrypted,
                          "-aes256", "-passout", "pass:secret"});
  ASSERT_EQ(test::exitCode(enc.wait()), 0) << enc.err();
  std::filesystem::permissions(encrypted, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  test::GatewayOptions go = certificateGateway("gateway-cert", "gateway");
  go.tls_key_file = encrypted;
  test::GatewayProcess gateway(go);
  EXPECT_FALSE(gateway.start());
  EXPECT_NE(gateway.err().find("no unencrypted PEM private key"), std::string::npos) << gateway.err();
}

TEST_F(LinkCertificates, AnInitiatorCertificateFromTheGatewaysCaDeliversEveryRecipient) {
  constexpr int kRecipients = 40;
  auto gateway = startGateway(certificateGateway("gateway-cert", "gateway"));
  test::InitiatorProcess initiator(
      campaign(database("cert-ok", kRecipients), entry("gateway-cert", gateway->link(), "initiator-a")));
  ASSERT_TRUE(initiator.start()) << initiator.err();
  expectEveryRecipientOnce(initiator, kRecipients);
  EXPECT_EQ(gateway->stop(), 0);
}

TEST_F(LinkCertificates, AnInitiatorCertificateFromAnotherCaIsRefused) {
  expectRefusedWith("gateway-cert", "gateway", "initiator-b", Refusal::byGateway("certificate verify failed"));
}

TEST_F(LinkCertificates, AGatewayCertificateForAnotherNameIsRefused) {
  // The same CA signed it, but for gateway-other: the initiator meant gateway-cert.
  expectRefusedWith("gateway-other", "other-gateway", "initiator-a",
                    Refusal::byInitiator("certificate verify failed"));
}

TEST_F(LinkCertificates, AGatewayNamedOnlyInItsCertificatesCommonNameIsRefused) {
  // RFC 6125 section 6.4.4: a name is checked against the subjectAltName, never the CN.
  expectRefusedWith("gateway-cert", "cn-only-gateway", "initiator-a",
                    Refusal::byInitiator("certificate verify failed"));
}

TEST_F(LinkCertificates, AnInitiatorPresentingAGatewaysCertificateIsRefused) {
  // Same CA, but issued for the other role (extendedKeyUsage serverAuth, RFC 5280 section 4.2.1.12).
  expectRefusedWith("gateway-cert", "gateway", "gateway", Refusal::byGateway("certificate verify failed"));
}

// A second implementation: HKDF in Python from the documented formula, TLS by openssl s_client.
class LinkInterop : public LinkSecurityEndToEnd {
 protected:
  test::ChildProcess interop(const test::GatewayProcess& gateway, const std::vector<std::string>& more = {}) {
    std::vector<std::string> argv{test::testEnv("LBMAIL_PYTHON"), supportScript("link_interop.py"), "--connect",
                                  gateway.link().toString(), "--name", gateway.name(), "--key-file",
                                  gateway.keyFile(), "--openssl", test::testEnv("LBMAIL_OPENSSL")};
    argv.insert(argv.end(), more.begin(), more.end());
    return test::ChildProcess(argv);
  }
};

TEST_F(LinkInterop, OpensslSClientWithThePythonDerivedPskExchangesHellos) {
  auto gateway = startGateway(gatewayOptions());
  auto client = interop(*gateway);
  EXPECT_EQ(test::exitCode(client.wait(std::chrono::seconds(30))), 0) << client.out() << client.err();
  EXPECT_NE(client.out().find("hello version=3 role=2 name=" + gateway->name() + " "), std::string::npos)
      << client.out();
  EXPECT_NE(client.out().find("header_version=3"), std::string::npos) << client.out();
  EXPECT_TRUE(gateway->child().waitForStderrLine("event=link.up")) << gateway->err();
  EXPECT_EQ(gateway->stop(), 0);
}

TEST_F(LinkInterop, ThePskOfAnotherGatewayNameIsRefused) {
  auto gateway = startGateway(gatewayOptions());
  auto client = interop(*gateway, {"--identity-name", "another-gateway"});
  EXPECT_EQ(test::exitCode(client.wait(std::chrono::seconds(30))), 1) << client.out() << client.err();
  EXPECT_NE(client.out().find("no frame from the gateway"), std::string::npos) << client.out();
  auto logged = gateway->child().waitForStderrLine("event=link.refused");
  ASSERT_TRUE(logged) << gateway->err();
  EXPECT_NE(logged->find("TLS handshake failed"), std::string::npos) << *logged;
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_EQ(gateway->err().find("event=link.up"), std::string::npos);
}

// RFC 8446 section 6.2: a handshake that fails ends with an alert, so that the peer (and its
// operator) learns why, rather than reading only end of stream ("unexpected eof").
TEST_F(LinkInterop, AClientWithAWrongKeyIsToldWhyByATlsAlert) {
  auto gateway = startGateway(gatewayOptions());
  auto client = interop(*gateway, {"--key-file", otherKeyFile("interop-wrong.key")});
  EXPECT_EQ(test::exitCode(client.wait(std::chrono::seconds(30))), 1) << client.out() << client.err();
  EXPECT_NE(client.out().find("alert"), std::string::npos) << client.out();
  EXPECT_EQ(client.out().find("unexpected eof"), std::string::npos) << client.out();
  EXPECT_EQ(gateway->stop(), 0);
}

}  // namespace
}  // namespace lbmail
