// Campaigns over real processes whose receiver refuses by policy or whose content can never be
// sent: dnsmasq answers MX queries, a scripted SMTP receiver refuses every RCPT from blocked
// source addresses with 554 5.7.1 (a blocklisted IP), two `lbmail gateway`s deliver from their
// own source addresses, and `lbmail initiator` runs the campaign with the `ewma` policy. A
// refusal answers in milliseconds; it must not make its gateway look fast, and a refused
// recipient is tried through the other gateway before it may bounce (issue 16, defect 3). A
// line break in a field used in a header fails at once with the reason (issue 16, defect 11). A
// site a gateway's shaping suspended goes through the other gateway (issue 20).
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
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
  std::string blocked_domain;     // only RCPTs to this domain are refused ("": every one)
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

bool refusesDomainOf(const ReceiverTally& tally, const std::string& recipient) {
  return tally.blocked_domain.empty() || recipient.ends_with("@" + tally.blocked_domain);
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
    } else if (verb == "RCPT" && blocked && refusesDomainOf(tally, argumentOf(*line))) {
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

  // Two gateways sending from kFirstSource and kSecondSource; shaping: each one's [shaping]
  // table (docs/shaping.md), off unless given.
  void startGateways(std::vector<std::string> shaping = {}) {
    for (const char* source : {kFirstSource, kSecondSource}) {
      size_t i = gateways_.size();
      test::GatewayOptions go;
      go.name = "gw" + std::to_string(gateways_.size() + 1);
      go.smtp_port = receiver_.address().port();
      go.dns_server = dns_.address().toString();
      go.capacity = 50;
      go.smtp_extra = std::string("source_addresses = [\"") + source + "\"]\n";
      // Off: the initiator's own handling of policy refusals, every recipient tried through
      // each gateway, with no suspension of the site after its first refusal.
      go.extra = i < shaping.size() ? "[shaping]\n" + shaping[i] : "[shaping]\nenabled = false\n";
      gateways_.push_back(std::make_unique<test::GatewayProcess>(go));
      ASSERT_TRUE(gateways_.back()->start()) << gateways_.back()->err();
    }
  }

  // The campaign over db through both gateways with the ewma policy.
  test::InitiatorOptions options(const std::string& db) {
    test::InitiatorOptions o;
    o.database = db;
    for (size_t i = 0; i < gateways_.size(); ++i) {
      o.gateways.push_back({"gw" + std::to_string(i + 1), gateways_[i]->link(), gateways_[i]->keyFile()});
    }
    o.campaign_extra = "retry_schedule = [\"200ms\"]\nmax_attempts = 4\n";
    o.extra = "[selection]\npolicy = \"ewma\"\n";
    return o;
  }

  // Runs the campaign over db to its end; the initiator's log.
  std::string run(const std::string& db) {
    test::InitiatorProcess initiator(options(db));
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

// With shaping, the blocked gateway's first refusal per site suspends that site for its address:
// what it still holds comes back unsent, the initiator hears of the suspension (SITES) and sends
// the domain's recipients through the other gateway; nobody bounces.
TEST_F(CampaignRefusals, WithShapingABlockSuspendsTheSiteAndEveryRecipientGoesThroughTheOther) {
  constexpr int kRecipients = 400;
  tally_.blocked = {kFirstSource};
  startGateways({"suspend_for = \"1h\"\n", "suspend_for = \"1h\"\n"});
  std::string db = test::makeDatabase(kRecipients);
  run(db);

  EXPECT_EQ(count(db, "state = 'bounced'"), "0");
  EXPECT_EQ(count(db, "state = 'delivered' AND gateway = 'gw2'"), std::to_string(kRecipients));
  EXPECT_EQ(static_cast<int>(tally_.delivered.size()), kRecipients);
  int refused = tally_.refusedFrom(kFirstSource);
  // Only what gw1 had started before its first refusal per site reached the receiver: the
  // first probes of each domain (three sites here), never a share of the campaign.
  // (Under the sanitizers the processes run several times slower: more is under way when the
  // first refusal comes back.)
  EXPECT_LE(refused, LBMAIL_SANITIZED ? kRecipients / 5 : kDomains * 8) << "the suspension did not stop gw1";
  std::printf("recipients refused through the blocked gateway with shaping: %d of %d\n", refused, kRecipients);
}

// gw1 is a new address warming up: at most 15 messages per site today. The initiator sends the
// overflow through gw2, and every recipient is delivered.
TEST_F(CampaignRefusals, AWarmingUpGatewayTakesItsCapAndTheOtherTakesTheRest) {
  constexpr int kRecipients = 300;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char today[16];
  std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
  startGateways({std::string("[[shaping.warmup]]\nstart = \"") + today + "\"\ndaily_caps = [15]\n", ""});
  std::string db = test::makeDatabase(kRecipients);
  run(db);

  EXPECT_EQ(count(db, "state = 'delivered'"), std::to_string(kRecipients));
  int through_first = std::stoi(count(db, "state = 'delivered' AND gateway = 'gw1'"));
  EXPECT_LE(through_first, 15 * kDomains) << "the warm-up cap was exceeded";
  EXPECT_GT(through_first, 0);
  std::printf("delivered through the warming-up gateway: %d of %d (cap %d)\n", through_first, kRecipients,
              15 * kDomains);
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

// Issue 20: the receiver blocks gw1's address for d0.test alone (554 5.7.1 ... blocked using
// ...). gw1's shaping suspends that site (mx.d0.test) for its address and says so (SITES, and
// REJECT kSiteUnavailable for what it held); the initiator sends d0.test's recipients through
// gw2 from then on, keeps gw1 for the other domains, and nobody bounces.
TEST_F(CampaignRefusals, ASiteSuspendedOnOneGatewayGoesThroughTheOtherWhileItsOtherSitesStay) {
  constexpr int kRecipients = 300;
  tally_.blocked = {kFirstSource};
  tally_.blocked_domain = "d0.test";
  startGateways({"", ""});  // shaping with its defaults
  std::string db = test::makeDatabase(kRecipients);
  test::InitiatorOptions o = options(db);
  o.campaign_extra += "exit_when_done = false\n";  // its /status is read at the end
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (initiator.campaignCount("delivered") < kRecipients && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(initiator.campaignCount("delivered"), kRecipients) << initiator.status().value_or("");
  // gw1 reports the site suspended (SITES go out at most once per report_interval), and the
  // initiator shows it under that gateway.
  auto gw1Sites = [&] {
    std::string status = initiator.status().value_or("");
    size_t gw1 = status.find("\"name\":\"gw1\"");
    size_t gw2 = status.find("\"name\":\"gw2\"");
    return gw1 == std::string::npos || gw2 < gw1 ? "" : status.substr(gw1, gw2 - gw1);
  };
  const std::string suspended = R"({"site":"mx.d0.test","suspended":true)";
  until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (gw1Sites().find(suspended) == std::string::npos && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(gw1Sites().find(suspended), std::string::npos) << initiator.status().value_or("");
  EXPECT_GT(initiator.gatewayCount("gw1", "delivered"), 0) << "gw1 should still carry d1.test and d2.test";
  EXPECT_EQ(initiator.stop(), 0);

  EXPECT_EQ(count(db, "state = 'bounced'"), "0");
  EXPECT_EQ(count(db, "state = 'delivered'"), std::to_string(kRecipients));
  std::string d0 = " AND recipient_id IN (SELECT id FROM recipients WHERE domain = 'd0.test')";
  EXPECT_EQ(count(db, "state = 'delivered' AND gateway = 'gw1'" + d0), "0");
  EXPECT_EQ(count(db, "state = 'delivered' AND gateway = 'gw2'" + d0), count(db, "1 = 1" + d0));
  int refused = tally_.refusedFrom(kFirstSource);
  EXPECT_GT(refused, 0) << "gw1 was never tried for d0.test";
  // Refused only until the first block suspended the site: what gw1 had under way then.
  EXPECT_LT(refused, kRecipients / 10);
  std::printf("d0.test recipients refused through the blocked gateway: %d of %d recipients\n", refused, kRecipients);
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
