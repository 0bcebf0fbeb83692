// Feedback closes the loop, over real processes only: dnsmasq answers the MX of dsn.test with a
// real Postfix that takes every recipient at SMTP time and bounces the unknown ones afterwards,
// as mail to the message's VERP return path, through its own smtp client to the gateway's
// feedback listener. The gateway reads Postfix's DSN and tells the initiator; a reader clicks the
// one-click link (curl POST) from the List-Unsubscribe of the message Postfix delivered. The
// same recipient database then runs a second campaign: the bounced and the unsubscribed
// addresses are never mailed again and end `suppressed`, and the others are mailed as before.
// Nobody writes a DSN or a token by hand (docs/feedback.md).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "ledger_test_support.h"
#include "postfix_bouncer.h"
#include "recipient_store.h"
#include "sink_process.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

constexpr char kDomain[] = "dsn.test";
constexpr char kBounceDomain[] = "bounces.test";
constexpr char kSecret[] = "8899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677";

std::string fileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first URL of the https/http List-Unsubscribe of a stored message (unfolded).
std::string unsubscribeUrlOf(const std::string& message) {
  std::smatch m;
  std::string unfolded = std::regex_replace(message, std::regex("\r?\n[ \t]+"), " ");
  if (!std::regex_search(unfolded, m, std::regex("\nList-Unsubscribe: <(https?://[^>]+)>"))) return "";
  return m[1];
}

// curl's HTTP status for a one-click POST (RFC 8058 section 3.1), or its error.
std::string oneClick(const std::string& url) {
  test::ChildProcess curl({test::testEnv("LBMAIL_CURL"), "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                           "-d", "List-Unsubscribe=One-Click", url});
  curl.wait(std::chrono::seconds(30));
  return curl.out() + curl.err();
}

class FeedbackLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::tempPath("campaign-feedback");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    key_file_ = dir_ + "/feedback.key";
    std::ofstream(key_file_) << kSecret << "\n";
    ::chmod(key_file_.c_str(), 0600);
    ASSERT_EQ(dns_.start(), "");
    ASSERT_EQ(postfix_.start(), "");
    test::GatewayOptions go;
    go.name = "gw1";
    go.smtp_port = postfix_.address().port();
    go.dns_server = dns_.address().toString();
    go.extra = "[feedback]\nkey_file = \"" + key_file_ + "\"\nlisten = \"" + feedback_.toString() +
               "\"\nbounce_domains = [\"" + kBounceDomain + "\"]\nspool = \"" + dir_ +
               "/feedback.spool\"\nunsubscribe_listen = \"" + unsubscribe_.toString() + "\"\n";
    gateway_ = std::make_unique<test::GatewayProcess>(go);
    ASSERT_TRUE(gateway_->start()) << gateway_->err();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // keep@, click@ and nouser@dsn.test: Postfix knows the first two.
  std::string makeDatabase() {
    std::string path = dir_ + "/recipients.db";
    auto store = RecipientStore::open(path);
    EXPECT_TRUE(store) << store.error();
    if (!store) return path;
    EXPECT_TRUE((*store)->beginBatch());
    for (const char* user : {"keep", "click", "nouser"}) {
      (*store)->upsert(std::string(user) + "@" + kDomain, kDomain, "{}");
    }
    EXPECT_TRUE((*store)->commitBatch());
    return path;
  }

  // Runs campaign name over db to its end; its accounting file.
  std::string runCampaign(const std::string& db, const std::string& name) {
    std::string accounting = dir_ + "/" + name + ".csv";
    test::InitiatorOptions o;
    o.database = db;
    o.campaign = name;
    o.gateways.push_back({"gw1", gateway_->link(), gateway_->keyFile()});
    o.campaign_extra = "accounting_file = \"" + accounting + "\"\n";
    o.extra = "[feedback]\nkey_file = \"" + key_file_ + "\"\nbounce_domain = \"" + kBounceDomain +
              "\"\nunsubscribe_url = \"http://" + unsubscribe_.toString() + "/u\"\n";
    test::InitiatorProcess initiator(o);
    EXPECT_TRUE(initiator.start()) << initiator.err();
    EXPECT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
    return fileText(accounting);
  }

  // Waits for the gateway's log line that says the event is in its spool.
  bool waitForLog(const std::string& needle) {
    return gateway_->child().waitForStderrLine(needle, std::chrono::seconds(60)).has_value();
  }

  std::string state(const std::string& db, const std::string& campaign, const std::string& user) {
    return test::query(db, "SELECT d.state FROM deliveries d JOIN recipients r ON r.id = d.recipient_id WHERE "
                           "d.campaign = '" + campaign + "' AND r.email = '" + user + "@" + kDomain + "'");
  }

  std::string dir_;
  std::string key_file_;
  SocketAddress feedback_ = *SocketAddress::parse("127.0.0.1:" + std::to_string(test::freePort()));
  SocketAddress unsubscribe_ = *SocketAddress::parse("127.0.0.1:" + std::to_string(test::freePort()));
  test::DnsmasqServer dns_{{std::string("--mx-host=") + kDomain + ",mx." + kDomain + ",10",
                            std::string("--host-record=mx.") + kDomain + ",127.0.0.1"}};
  test::PostfixBouncer postfix_{kDomain, kBounceDomain, feedback_, {"keep", "click"}};
  std::unique_ptr<test::GatewayProcess> gateway_;
};

TEST_F(FeedbackLoop, ABouncedAndAnUnsubscribedAddressAreNeverMailedByTheNextCampaign) {
  std::string db = makeDatabase();
  runCampaign(db, "spring");
  // Postfix took all three; it delivers two and bounces the third to its VERP return path.
  EXPECT_EQ(state(db, "spring", "nouser"), "delivered");
  ASSERT_TRUE(waitForLog("type=dsn events=1")) << postfix_.log() << gateway_->err().substr(0, 4000);
  std::vector<std::string> delivered = postfix_.waitForMessages(2);
  ASSERT_EQ(delivered.size(), 2u) << postfix_.log();

  // The reader of click@ uses the one-click link of the message Postfix delivered.
  std::string url;
  for (const std::string& file : delivered) {
    std::string text = fileText(file);
    if (text.find("To: click@dsn.test") != std::string::npos) url = unsubscribeUrlOf(text);
  }
  ASSERT_FALSE(url.empty()) << "no List-Unsubscribe URL in click@'s message";
  std::string tampered = url;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'a' ? 'b' : 'a';
  EXPECT_EQ(oneClick(tampered), "404");
  EXPECT_EQ(oneClick(url), "200");
  ASSERT_TRUE(waitForLog("event=gateway.unsubscribe_recorded source=one-click")) << gateway_->err().substr(0, 4000);

  // The next campaign over the same database hears of both when it connects and mails only keep@.
  std::string accounting = runCampaign(db, "summer");
  EXPECT_EQ(state(db, "summer", "keep"), "delivered");
  EXPECT_EQ(state(db, "summer", "click"), "suppressed");
  EXPECT_EQ(state(db, "summer", "nouser"), "suppressed");
  EXPECT_EQ(postfix_.waitForMessages(3).size(), 3u);
  EXPECT_NE(accounting.find("click@dsn.test"), std::string::npos);
  EXPECT_NE(accounting.find(",suppressed,"), std::string::npos) << accounting;
  // Postfix saw keep@ twice, click@ once and nouser@ once: nothing was sent to a suppressed address.
  EXPECT_EQ(postfix_.messages().size(), 3u);
  EXPECT_EQ(test::query(db, "SELECT reason FROM suppressions WHERE address = 'nouser@dsn.test'"), "hard_bounce");
  EXPECT_EQ(test::query(db, "SELECT reason FROM suppressions WHERE address = 'click@dsn.test'"), "unsubscribe");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "2");
}

}  // namespace
}  // namespace lbmail
