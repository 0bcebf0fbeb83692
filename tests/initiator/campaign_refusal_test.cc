// Campaigns over real processes whose receiver refuses by policy or whose content can never be
// sent: dnsmasq answers MX queries, a scripted SMTP receiver refuses every RCPT from blocked
// source addresses with 554 5.7.1 (a blocklisted IP), two `lbmail gateway`s deliver from their
// own source addresses, and `lbmail initiator` runs the campaign with the `ewma` policy. A
// refusal answers in milliseconds; it must not make its gateway look fast, and a refused
// recipient is tried through the other gateway before it may bounce (issue 16, defect 3). A
// line break in a field used in a header fails at once with the reason (issue 16, defect 11).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "ledger_test_support.h"
#include "scripted_smtp_server.h"

namespace lbmail {
namespace {

constexpr int kDomains = 3;  // test::makeDatabase spreads recipients over d0..d2.test
const char kFirstSource[] = "127.0.0.2";
const char kSecondSource[] = "127.0.0.3";

// What the receiver saw: refusals by source address, and the recipients it accepted a message for.
struct ReceiverTally {
  std::mutex mutex;
  std::set<std::string> blocked;  // source addresses refused at RCPT
  std::map<std::string, int> refused;
  std::multiset<std::string> delivered;

  bool isBlocked(const std::string& host) {
    std::lock_guard lock(mutex);
    return blocked.contains(host);
  }
  int refusedFrom(const std::string& host) {
    std::lock_guard lock(mutex);
    return refused[host];
  }
};

std::string argumentOf(const std::string& line) {
  size_t open = line.find('<');
  size_t close = line.find('>', open);
  return open == std::string::npos || close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

// One SMTP session as a receiver with a blocklist on the client's address: 554 5.7.1 to every
// RCPT from a blocked one (RFC 3463: 7 is the policy subject), and a message accepted otherwise
// a few milliseconds after its end, slower than any refusal.
void receive(test::ScriptedPeer& peer, ReceiverTally& tally) {
  bool blocked = tally.isBlocked(peer.peerHost());
  test::greetAndHello(peer, {"8BITMIME"});
  std::string recipient;
  while (std::optional<std::string> line = peer.readLine()) {
    std::string verb = line->substr(0, 4);
    if (verb == "MAIL") {
      recipient.clear();
      peer.send("250 2.1.0 Ok\r\n");
    } else if (verb == "RCPT" && blocked) {
      std::lock_guard lock(tally.mutex);
      ++tally.refused[peer.peerHost()];
      peer.send("554 5.7.1 Service unavailable; client host blocked using a test blocklist\r\n");
    } else if (verb == "RCPT") {
      recipient = argumentOf(*line);
      peer.send("250 2.1.5 Ok\r\n");
    } else if (verb == "DATA" && recipient.empty()) {
      peer.send("554 5.5.1 No valid recipients\r\n");
    } else if (verb == "DATA") {
      peer.send("354 End data with <CR><LF>.<CR><LF>\r\n");
      if (!peer.readUntil("\r\n.\r\n")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the receiver's latency
      {
        std::lock_guard lock(tally.mutex);
        tally.delivered.insert(recipient);
      }
      peer.send("250 2.0.0 Ok: queued\r\n");
    } else if (verb == "QUIT") {
      peer.send("221 2.0.0 Bye\r\n");
      return;
    } else {
      peer.send("250 2.0.0 Ok\r\n");  // RSET, NOOP
    }
  }
}

class CampaignRefusals : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(dns_.start(), ""); }

  // Two gateways sending from kFirstSource and kSecondSource.
  void startGateways() {
    for (const char* source : {kFirstSource, kSecondSource}) {
      test::GatewayOptions go;
      go.name = "gw" + std::to_string(gateways_.size() + 1);
      go.smtp_port = receiver_.address().port();
      go.dns_server = dns_.address().toString();
      go.capacity = 50;
      go.smtp_extra = std::string("source_addresses = [\"") + source + "\"]\n";
      // The initiator's own handling of policy refusals, every recipient tried through each
      // gateway: no suspension of the site after the first refusal (tests/gateway's
      // gateway_shaping_test covers that).
      go.extra = "[shaping]\nenabled = false\n";
      gateways_.push_back(std::make_unique<test::GatewayProcess>(go));
      ASSERT_TRUE(gateways_.back()->start()) << gateways_.back()->err();
    }
  }

  // Runs the campaign over db to its end with the ewma policy; the initiator's log.
  std::string run(const std::string& db) {
    test::InitiatorOptions o;
    o.database = db;
    for (size_t i = 0; i < gateways_.size(); ++i) {
      o.gateways.push_back({"gw" + std::to_string(i + 1), gateways_[i]->link(), gateways_[i]->keyFile()});
    }
    o.campaign_extra = "retry_schedule = [\"200ms\"]\nmax_attempts = 4\n";
    o.extra = "[selection]\npolicy = \"ewma\"\n";
    test::InitiatorProcess initiator(o);
    EXPECT_TRUE(initiator.start()) << initiator.err();
    EXPECT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
    return initiator.err();
  }

  std::string count(const std::string& db, const std::string& where) {
    return test::query(db, "SELECT count(*) FROM deliveries WHERE campaign = 'test' AND " + where);
  }

  test::DnsmasqServer dns_{test::loopbackMxRecords(kDomains)};
  ReceiverTally tally_;
  test::ScriptedSmtpServer receiver_{[this](test::ScriptedPeer& peer, int) { receive(peer, tally_); }};
  std::vector<std::unique_ptr<test::GatewayProcess>> gateways_;
};

// One gateway's address is blocklisted. Before: its refusals, quicker than any delivery, made it
// the fastest gateway, most recipients went there and bounced. Now it gets a few probes and
// explorations, and every recipient it refused is delivered through the other.
TEST_F(CampaignRefusals, ABlocklistedGatewayGetsLittleAndNobodyBouncesThatTheOtherCouldDeliver) {
  constexpr int kRecipients = 400;
  tally_.blocked = {kFirstSource};
  startGateways();
  std::string db = test::makeDatabase(kRecipients);
  run(db);

  EXPECT_EQ(count(db, "state = 'bounced'"), "0");
  EXPECT_EQ(count(db, "state = 'delivered'"), std::to_string(kRecipients));
  EXPECT_EQ(count(db, "state = 'delivered' AND gateway = 'gw2'"), std::to_string(kRecipients));
  // A refused recipient's attempt through gw1 counts.
  EXPECT_EQ(count(db, "attempts = 2"), std::to_string(tally_.refusedFrom(kFirstSource)));
  int refused = tally_.refusedFrom(kFirstSource);
  EXPECT_GT(refused, 0) << "gw1 was never tried";
  // Before the fix it kept 223 of 400. Now about 12 here; the refusals that arrive before the
  // table knows depend on speed (42 under the sanitizers, whose processes run several times slower).
  EXPECT_LT(refused, kRecipients / 5) << "the blocked gateway kept a large share";
  EXPECT_EQ(static_cast<int>(tally_.delivered.size()), kRecipients);
  std::printf("recipients refused through the blocked gateway: %d of %d\n", refused, kRecipients);
}

// Both gateways' addresses are blocklisted: each recipient is tried once through each, then it
// bounces with the receiver's reply.
TEST_F(CampaignRefusals, ARecipientBouncesOnlyOnceEveryGatewayRefusedIt) {
  constexpr int kRecipients = 60;
  tally_.blocked = {kFirstSource, kSecondSource};
  startGateways();
  std::string db = test::makeDatabase(kRecipients);
  run(db);

  EXPECT_EQ(count(db, "state = 'bounced' AND attempts = 2 AND smtp_code = 554 AND enhanced_code = '5.7.1'"),
            std::to_string(kRecipients));
  EXPECT_EQ(count(db, "reason LIKE 'refused by policy through 2 of 2 gateways: 554 5.7.1 Service unavailable%'"),
            std::to_string(kRecipients));
  EXPECT_EQ(tally_.refusedFrom(kFirstSource), kRecipients);
  EXPECT_EQ(tally_.refusedFrom(kSecondSource), kRecipients);
}

// A line break in a merge field used in a header (the default material's Subject) can never be
// sent: it fails at once, with the reason, and is not retried as a deferral.
TEST_F(CampaignRefusals, ALineBreakInAHeaderFieldFailsAtOnceWithTheReason) {
  constexpr int kRecipients = 30;
  startGateways();
  std::string db = test::makeDatabase(kRecipients);
  {
    auto store = RecipientStore::open(db);
    ASSERT_TRUE(store) << store.error();
    (*store)->upsert("eve@d1.test", "d1.test", "{\"first_name\":\"Eve\\r\\nBcc: victim@d2.test\"}");
  }
  run(db);

  EXPECT_EQ(count(db, "state = 'delivered'"), std::to_string(kRecipients));
  std::string eve = " AND recipient_id = (SELECT id FROM recipients WHERE email = 'eve@d1.test')";
  EXPECT_EQ(count(db, "state = 'failed' AND attempts = 1" + eve), "1");
  EXPECT_EQ(test::query(db, "SELECT reason FROM deliveries WHERE campaign = 'test'" + eve),
            "rejected by gateway: field 'first_name' is used in a header and contains a line break");
  EXPECT_EQ(tally_.delivered.count("eve@d1.test"), 0u);
}

}  // namespace
}  // namespace lbmail
