// Issue 21 end to end over real processes (dnsmasq, `lbmail sink`, `lbmail gateway`, `lbmail
// initiator`): addresses put on the suppression list with `lbmail suppress add` are never sent
// and end `suppressed` in the ledger and the accounting file; every message's return path is a
// VERP address whose token verifies to its recipient and campaign, and its List-Unsubscribe
// (the default one) carries the unsubscribe URL with a token that verifies too.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "child_process.h"
#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "lbmail/feedback/feedback_token.h"
#include "ledger_test_support.h"
#include "sink_process.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

constexpr char kSecret[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// The value of "key":"..." in a JSON log line.
std::string jsonString(const std::string& line, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  size_t at = line.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  return line.substr(at, line.find('"', at) - at);
}

uint64_t recipientId(const std::string& db, const std::string& email) {
  return std::stoull(test::query(db, "SELECT id FROM recipients WHERE email = '" + email + "'"));
}

// The ids of the recipients delivered, as "1 2 3".
std::string deliveredIds(const std::string& db) {
  return test::query(db, "SELECT group_concat(recipient_id, ' ') FROM (SELECT recipient_id FROM deliveries WHERE "
                         "state = 'delivered' ORDER BY recipient_id)");
}

feedback::TokenCheck check(feedback::TokenPurpose purpose) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  return {purpose, feedback::dayOf(ms), 30};
}

int runSuppress(const std::vector<std::string>& args) {
  std::vector<std::string> argv{test::testEnv("LBMAIL_BINARY"), "suppress"};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ChildProcess p(argv);
  return test::exitCode(p.wait(std::chrono::seconds(30)));
}

class CampaignSuppression : public ::testing::Test {
 protected:
  void SetUp() override {
    message_dir_ = test::tempPath(std::string("campaign-suppression-") + testName());
    std::filesystem::remove_all(message_dir_);
    std::filesystem::create_directories(message_dir_);
    ASSERT_EQ(dns_.start(), "");
    sink_ = std::make_unique<test::SinkProcess>("message_dir = \"" + message_dir_ + "\"\n");
    ASSERT_TRUE(sink_->start()) << sink_->err();
    test::GatewayOptions go;
    go.name = "gw1";
    go.smtp_port = sink_->smtp().port();
    go.dns_server = dns_.address().toString();
    gateway_ = std::make_unique<test::GatewayProcess>(go);
    ASSERT_TRUE(gateway_->start()) << gateway_->err();
  }
  void TearDown() override { std::filesystem::remove_all(message_dir_); }

  static std::string testName() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  // Runs the campaign over db to its end with the material's text and more config; the sink is
  // stopped after it.
  void runCampaign(const std::string& db, const std::string& text, const std::string& extra) {
    accounting_ = test::tempPath("campaign-suppression-" + testName() + ".csv");
    std::filesystem::remove(accounting_);
    test::InitiatorOptions o;
    o.database = db;
    o.gateways.push_back({"gw1", gateway_->link(), gateway_->keyFile()});
    o.default_material = false;
    o.campaign_extra = "accounting_file = \"" + accounting_ + "\"\ndefault_material = \"standard\"\n";
    o.extra = "[[campaign.material]]\nname = \"standard\"\nfrom = \"Shop <news@shop.example>\"\nsubject = \"Hi\"\n"
              "text = \"" + text + "\\n\"\n" + extra;
    test::InitiatorProcess initiator(o);
    ASSERT_TRUE(initiator.start()) << initiator.err();
    ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(60)), 0) << initiator.err().substr(0, 4000);
    ASSERT_EQ(sink_->stop(), 0);
  }

  // The recipient of each message the sink received, from its log.
  std::vector<std::string> receivedBy() const {
    std::vector<std::string> out;
    for (const std::string& line : sink_->messageLog()) {
      std::string rcpt = line.substr(line.find("\"recipients\":[\"") + 15);
      out.push_back(rcpt.substr(0, rcpt.find('"')));
    }
    return out;
  }

  std::string message_dir_;
  std::string accounting_;
  test::DnsmasqServer dns_{test::loopbackMxRecords(3)};
  std::unique_ptr<test::SinkProcess> sink_;
  std::unique_ptr<test::GatewayProcess> gateway_;
};

TEST_F(CampaignSuppression, AddressesSuppressedByTheCommandAreNeverSentAndEndSuppressed) {
  constexpr int kRecipients = 12;
  std::string db = test::makeDatabase(kRecipients);
  ASSERT_EQ(runSuppress({"add", "USER4@d1.test", "user5@d2.test", "--db", db}), 0);
  ASSERT_NO_FATAL_FAILURE(runCampaign(db, "Hello", ""));

  EXPECT_EQ(test::query(db, "SELECT group_concat(email, ' ') FROM (SELECT r.email FROM deliveries d JOIN recipients "
                            "r ON r.id = d.recipient_id WHERE d.state = 'suppressed' ORDER BY r.email)"),
            "user4@d1.test user5@d2.test");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
            std::to_string(kRecipients - 2));
  std::ifstream acc(accounting_);
  std::map<std::string, std::string> outcome_of;
  for (std::string line; std::getline(acc, line);) {
    std::vector<std::string> f;
    std::stringstream s(line);
    for (std::string x; std::getline(s, x, ',');) f.push_back(x);
    if (f.size() > 5) outcome_of[f[1]] = f[5];
  }
  EXPECT_EQ(outcome_of["user4@d1.test"], "suppressed");
  EXPECT_EQ(outcome_of["user5@d2.test"], "suppressed");
  std::vector<std::string> received = receivedBy();
  EXPECT_EQ(static_cast<int>(received.size()), kRecipients - 2);
  for (const std::string& rcpt : received) {
    EXPECT_NE(rcpt, "user4@d1.test");
    EXPECT_NE(rcpt, "user5@d2.test");
  }
}

TEST_F(CampaignSuppression, ReturnPathsAndUnsubscribeLinksCarryTokensThatVerify) {
  std::string key_file = test::tempPath("campaign-suppression.key");
  std::filesystem::remove(key_file);
  std::ofstream(key_file) << kSecret << "\n";
  std::filesystem::permissions(key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto loaded = feedback::FeedbackKey::load(key_file, 1);
  ASSERT_TRUE(loaded) << loaded.error();
  constexpr int kRecipients = 6;
  std::string db = test::makeDatabase(kRecipients);
  ASSERT_NO_FATAL_FAILURE(runCampaign(db, "Unsubscribe: {{unsubscribe_url}}",
                                      "[feedback]\nkey_file = \"" + key_file +
                                          "\"\nbounce_domain = \"bounce.shop.example\"\n"
                                          "unsubscribe_url = \"https://u.shop.example/u\"\n"));
  std::vector<std::string> log = sink_->messageLog();
  ASSERT_EQ(static_cast<int>(log.size()), kRecipients);
  auto number = static_cast<uint32_t>(std::stoul(test::query(db, "SELECT rowid FROM campaigns WHERE name = 'test'")));
  std::vector<feedback::FeedbackKey> keys{*loaded};
  std::vector<std::string> domains{"bounce.shop.example"};
  std::vector<std::string> received = receivedBy();
  for (size_t i = 0; i < log.size(); ++i) {
    std::string sender = jsonString(log[i], "sender");
    EXPECT_EQ(sender.rfind("bounce+", 0), 0u) << sender;
    auto token = feedback::verpTokenOf(sender, domains);
    ASSERT_TRUE(token) << sender;
    auto fields = feedback::verifyToken(keys, *token, check(feedback::TokenPurpose::kBounce));
    ASSERT_TRUE(fields) << sender << ": " << feedback::tokenErrorText(fields.error());
    EXPECT_EQ(fields->recipient, recipientId(db, received[i]));
    EXPECT_EQ(fields->campaign, number);
    EXPECT_EQ(fields->attempt, 1);
  }

  // The messages: List-Unsubscribe (the default one) names the URL with a verifying unsubscribe
  // token, the https base brings List-Unsubscribe-Post (RFC 8058), and {{unsubscribe_url}} in
  // the text is the same URL.
  std::vector<std::string> argv{test::testEnv("LBMAIL_PYTHON"), "-c",
                                "import email, email.policy, re, sys\n"
                                "for path in sys.argv[1:]:\n"
                                "    m = email.message_from_bytes(open(path, 'rb').read(),\n"
                                "                                 policy=email.policy.default)\n"
                                "    u = re.search(r'<https://u\\.shop\\.example/u/([a-z0-9]+)>',\n"
                                "                  m['List-Unsubscribe'])\n"
                                "    print(u.group(1) if u else '-', m['List-Unsubscribe-Post'],\n"
                                "          u.group(1) in m.get_body().get_content() if u else False)\n"};
  for (const auto& entry : std::filesystem::directory_iterator(message_dir_)) argv.push_back(entry.path());
  ASSERT_EQ(argv.size(), 3 + log.size());
  test::ChildProcess py(argv);
  ASSERT_EQ(test::exitCode(py.wait(std::chrono::seconds(60))), 0) << py.err();
  std::istringstream lines(py.out());
  std::set<uint64_t> unsubscribe_ids;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string token, post, in_body;
    f >> token >> post >> in_body;
    EXPECT_EQ(post, "List-Unsubscribe=One-Click") << line;
    EXPECT_EQ(in_body, "True") << line;
    auto fields = feedback::verifyToken(keys, token, check(feedback::TokenPurpose::kUnsubscribe));
    ASSERT_TRUE(fields) << line << ": " << feedback::tokenErrorText(fields.error());
    EXPECT_EQ(fields->campaign, number);
    EXPECT_EQ(fields->attempt, 0);
    unsubscribe_ids.insert(fields->recipient);
  }
  std::string ids;
  for (uint64_t id : unsubscribe_ids) ids += (ids.empty() ? "" : " ") + std::to_string(id);
  EXPECT_EQ(ids, deliveredIds(db));
}

}  // namespace
}  // namespace lbmail
