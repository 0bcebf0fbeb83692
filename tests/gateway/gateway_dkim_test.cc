// DKIM through the whole path: a campaign run by `lbmail initiator` over a link to `lbmail
// gateway`, which signs with keys made by `lbmail dkim keygen` and delivers into `lbmail sink`;
// every message as the sink stored it is verified by dkimpy, Mail::DKIM and mailauth against keys
// published by a real DNS server, and a copy with one octet changed fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "dkim_verifiers.h"
#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "lbmail/dkim/dkim_key.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

constexpr int kRecipients = 12;
constexpr auto kCampaignBound = std::chrono::seconds(120);

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string recipientOf(int i) { return "reader" + std::to_string(i) + "@d" + std::to_string(i % 3) + ".test"; }

// `lbmail dkim keygen`, then the key as the gateway will load it.
dkim::DkimKey keygen(const std::string& file, const std::string& selector, const std::string& algorithm) {
  std::filesystem::remove(file);
  test::ChildProcess child({test::testEnv("LBMAIL_BINARY"), "dkim", "keygen", "--domain", "shop.example",
                            "--selector", selector, "--algorithm", algorithm, "--out", file});
  EXPECT_EQ(test::exitCode(child.wait()), 0) << child.err();
  auto key = dkim::DkimKey::load({"shop.example", selector,
                                  algorithm == "rsa" ? dkim::Algorithm::kRsaSha256 : dkim::Algorithm::kEd25519Sha256,
                                  file});
  EXPECT_TRUE(key) << (key ? "" : key.error());
  return std::move(*key);
}

class GatewayDkim : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_file_ = test::tempPath("dkim-e2e-rsa.pem");
    ed_file_ = test::tempPath("dkim-e2e-ed.pem");
    keys_.push_back(keygen(rsa_file_, "r2026", "rsa"));
    keys_.push_back(keygen(ed_file_, "e2026", "ed25519"));
    message_dir_ = test::tempPath("dkim-e2e-messages");
    std::filesystem::remove_all(message_dir_);
    std::filesystem::create_directories(message_dir_);
  }
  void TearDown() override { std::filesystem::remove_all(message_dir_); }

  std::string database(int n) {
    std::string csv = test::tempPath("dkim-e2e.csv");
    std::string db = test::tempPath("dkim-e2e.db");
    std::filesystem::remove(db);
    std::ofstream out(csv);
    out << "email,first_name\n";
    // Non-ASCII merge values: the Subject becomes an encoded-word, the body quoted-printable.
    for (int i = 0; i < n; ++i) out << recipientOf(i) << ",Zoë " << i << "\n";
    out.close();
    test::ChildProcess import({test::testEnv("LBMAIL_BINARY"), "import", csv, "--db", db});
    EXPECT_EQ(test::exitCode(import.wait()), 0) << import.err();
    return db;
  }

  std::string dkimTable() const {
    return "[dkim]\nsigner_threads = 2\nexpire = \"7d\"\n"
           "[[dkim.domain]]\ndomain = \"shop.example\"\nselector = \"r2026\"\nalgorithm = \"rsa-sha256\"\n"
           "key_file = \"" + rsa_file_ + "\"\n"
           "[[dkim.domain]]\ndomain = \"shop.example\"\nselector = \"e2026\"\nalgorithm = \"ed25519-sha256\"\n"
           "key_file = \"" + ed_file_ + "\"\n";
  }

  std::vector<std::string> storedMessages() const {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(message_dir_)) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string rsa_file_, ed_file_, message_dir_;
  std::vector<dkim::DkimKey> keys_;
};

TEST_F(GatewayDkim, EveryMessageTheSinkStoredPassesEveryVerifierAndAChangedOneFails) {
  test::DnsmasqServer dns(test::loopbackMxRecords(3));
  ASSERT_EQ(dns.start(), "");
  test::DkimVerifiers verifiers({&keys_[0], &keys_[1]});
  ASSERT_EQ(verifiers.start(), "");
  test::SinkProcess sink("message_dir = \"" + message_dir_ + "\"\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go;
  go.smtp_port = sink.smtp().port();
  go.dns_server = dns.address().toString();
  go.extra = dkimTable();
  test::GatewayProcess gateway(go);
  ASSERT_TRUE(gateway.start()) << gateway.err();

  test::InitiatorOptions o;
  o.database = database(kRecipients);
  o.gateways = {{gateway.name(), gateway.link(), gateway.keyFile()}};
  o.campaign_extra = "max_attempts = 1\n";  // each message signed once: the counts below are exact
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_EQ(initiator.waitForExit(kCampaignBound), 0) << initiator.err().substr(0, 4000);
  EXPECT_NE(initiator.err().find("delivered=" + std::to_string(kRecipients) + " "), std::string::npos)
      << initiator.err();
  // Two signatures a message, counted per algorithm; nothing left in the signer queue.
  auto metrics = test::httpGet(gateway.admin(), "/metrics");
  ASSERT_TRUE(metrics);
  std::string n = std::to_string(kRecipients);
  EXPECT_NE(metrics->body.find("lbmail_gateway_dkim_signatures_total{algorithm=\"rsa-sha256\"} " + n + "\n"),
            std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("lbmail_gateway_dkim_signatures_total{algorithm=\"ed25519-sha256\"} " + n + "\n"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("lbmail_gateway_dkim_sign_seconds_count " + n + "\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("lbmail_gateway_dkim_queue_depth 0\n"), std::string::npos);
  auto status = test::httpGet(gateway.admin(), "/status");
  ASSERT_TRUE(status);
  EXPECT_NE(status->body.find("\"dkim\":{\"signer_threads\":2,\"queue_depth\":0,\"signatures\":" +
                              std::to_string(2 * kRecipients)),
            std::string::npos) << status->body;
  EXPECT_EQ(gateway.stop(), 0) << gateway.err().substr(0, 4000);
  ASSERT_EQ(sink.stop(), 0);

  std::vector<std::string> files = storedMessages();
  ASSERT_EQ(files.size(), static_cast<size_t>(kRecipients));
  for (const std::string& f : files) {
    std::string text = readFile(f);
    // Dual signing: RSA first, then Ed25519, both before the message's own first field.
    ASSERT_EQ(text.rfind("DKIM-Signature: v=1; a=rsa-sha256;", 0), 0u) << text.substr(0, 400);
    EXPECT_NE(text.find("\r\nDKIM-Signature: v=1; a=ed25519-sha256;"), std::string::npos);
    EXPECT_NE(text.find(" x="), std::string::npos);
  }
  test::DkimVerifiers::Result good = verifiers.verify(files);
  EXPECT_TRUE(good.dkimpy_pass) << good.output;
  EXPECT_TRUE(good.mail_dkim_pass) << good.output;
  EXPECT_TRUE(good.mailauth_pass) << good.output;

  // One octet of the body changed after the sink stored it: both verifiers refuse it.
  std::string text = readFile(files[0]);
  size_t body = text.find("\r\n\r\n") + 4;
  text[body + 1] = text[body + 1] == 'x' ? 'y' : 'x';
  std::string changed = test::tempPath("dkim-e2e-changed.eml");
  std::ofstream(changed, std::ios::binary) << text;
  test::DkimVerifiers::Result bad = verifiers.verify({changed});
  EXPECT_FALSE(bad.dkimpy_pass) << bad.output;
  EXPECT_FALSE(bad.mail_dkim_pass) << bad.output;
  EXPECT_FALSE(bad.mailauth_pass) << bad.output;
  std::filesystem::remove(changed);
}

TEST_F(GatewayDkim, AKeyReadableByOthersIsAConfigurationErrorNamingIt) {
  std::filesystem::permissions(rsa_file_, std::filesystem::perms::group_read | std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  test::GatewayOptions go;
  go.extra = dkimTable();
  test::GatewayProcess gateway(go);
  EXPECT_FALSE(gateway.start());
  EXPECT_NE(gateway.err().find(rsa_file_), std::string::npos) << gateway.err();
  EXPECT_NE(gateway.err().find("shop.example"), std::string::npos) << gateway.err();
}

}  // namespace
}  // namespace lbmail
