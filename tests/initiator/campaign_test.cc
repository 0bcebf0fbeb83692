// End-to-end campaigns over real processes on loopback: dnsmasq answers MX queries, `lbmail
// sink` receives, `lbmail gateway` x2 deliver, `lbmail initiator` runs the campaign over a
// recipient database the test fills. The database, the accounting file and the sink's message
// log are read back to check that every recipient ends with exactly one final state.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "chromium_page.h"
#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "media_fixture.h"
#include "recipient_store.h"
#include "sink_process.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail {
namespace {

constexpr int kDomains = 8;
const char kDeferDomain[] = "d7.test";  // the sink defers half its RCPTs

std::string makeDatabase(const std::string& name, int recipients) {
  std::string path = test::tempPath(name);
  std::filesystem::remove(path);
  auto store = RecipientStore::open(path);
  EXPECT_TRUE(store) << store.error();
  (*store)->beginBatch();
  for (int i = 0; i < recipients; ++i) {
    std::string domain = "d" + std::to_string(i % kDomains) + ".test";
    std::string attrs =
        "{\"first_name\":\"Name" + std::to_string(i) + "\",\"tier\":\"" + (i % 10 == 0 ? "gold" : "std") + "\"}";
    (*store)->upsert("user" + std::to_string(i) + "@" + domain, domain, attrs);
  }
  (*store)->commitBatch();
  return path;
}

// Rows of a query's first columns as text.
std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::vector<std::vector<std::string>> rows;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    auto& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const unsigned char* t = sqlite3_column_text(st, i);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

std::map<std::string, int> stateCounts(const std::string& db) {
  std::map<std::string, int> m;
  for (auto& row : query(db, "SELECT state, count(*) FROM deliveries WHERE campaign = 'test' GROUP BY state")) {
    m[row[0]] = std::stoi(row[1]);
  }
  return m;
}

// Times each recipient arrived at the sink, from its message log.
std::map<std::string, int> receivedCounts(const std::vector<std::string>& log) {
  std::map<std::string, int> m;
  for (const std::string& line : log) {
    size_t at = line.find("\"recipients\":[\"");
    if (at == std::string::npos) continue;
    at += 15;
    ++m[line.substr(at, line.find('"', at) - at)];
  }
  return m;
}

// Polls /status until the campaign's count reaches n (events from another process; bounded).
bool waitForCount(const test::InitiatorProcess& p, const std::string& key, int64_t n, std::chrono::seconds bound) {
  auto until = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < until) {
    if (p.campaignCount(key) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class CampaignEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(dns_.start(), "");
    sink_ = std::make_unique<test::SinkProcess>(std::string("[[sink.rule]]\ndomain = \"") + kDeferDomain +
                                                "\"\ndefer_rcpt = 0.5\n[[sink.rule]]\ndata_latency = \"1ms..3ms\"\n");
    ASSERT_TRUE(sink_->start()) << sink_->err();
  }

  // Two gateways, each with the media cache given (empty: none) and extra [smtp] keys.
  void startGateways(const std::string& media1 = "", const std::string& media2 = "",
                     const std::string& smtp_extra = "") {
    for (const std::string& media : {media1, media2}) {
      test::GatewayOptions go;
      go.name = "gw" + std::to_string(gateways_.size() + 1);
      go.smtp_port = sink_->smtp().port();
      go.dns_server = dns_.address().toString();
      go.capacity = 200;
      go.media_cache = media;
      go.smtp_extra = smtp_extra;
      gateways_.push_back(std::make_unique<test::GatewayProcess>(go));
      ASSERT_TRUE(gateways_.back()->start()) << gateways_.back()->err();
    }
  }

  test::InitiatorOptions options(const std::string& db) {
    if (gateways_.empty()) startGateways();
    test::InitiatorOptions o;
    o.database = db;
    for (size_t i = 0; i < gateways_.size(); ++i) {
      o.gateways.push_back({"gw" + std::to_string(i + 1), gateways_[i]->link(), gateways_[i]->keyFile()});
    }
    accounting_ = test::tempPath("accounting-" + std::to_string(++runs_) + ".csv");
    std::filesystem::remove(accounting_);
    o.campaign_extra =
        "retry_schedule = [\"200ms\"]\nmax_attempts = 4\nbatch_size = 250\nfailover_grace = \"300ms\"\n"
        "accounting_file = \"" +
        accounting_ + "\"\n";
    return o;
  }

  // SIGKILL for gateway g while the initiator counts requests in flight on it: frozen first
  // (SIGSTOP), so that what is in flight stays in flight, and killed once that is more than
  // nothing (the initiator may be between batches at any one moment).
  bool killHoldingRequests(const test::InitiatorProcess& initiator, size_t g) {
    std::string name = "gw" + std::to_string(g + 1);
    for (int i = 0; i < 500; ++i) {
      gateways_[g]->child().signal(SIGSTOP);
      if (initiator.gatewayCount(name, "in_flight") > 0) {
        gateways_[g]->child().signal(SIGKILL);
        return true;
      }
      gateways_[g]->child().signal(SIGCONT);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  void expectOneFinalStateEach(const std::string& db, int recipients) {
    auto rows = query(db,
                      "SELECT count(*), count(DISTINCT recipient_id) FROM deliveries WHERE campaign = 'test' "
                      "AND state IN ('delivered', 'bounced', 'failed')");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], std::to_string(recipients));
    EXPECT_EQ(rows[0][1], std::to_string(recipients));
    auto left = query(db,
                      "SELECT count(*) FROM recipients r WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE "
                      "d.campaign = 'test' AND d.recipient_id = r.id AND d.state IN ('delivered', 'bounced', "
                      "'failed'))");
    EXPECT_EQ(left[0][0], "0");
  }

  test::DnsmasqServer dns_{test::loopbackMxRecords(kDomains)};
  std::unique_ptr<test::SinkProcess> sink_;
  std::vector<std::unique_ptr<test::GatewayProcess>> gateways_;
  std::string accounting_;
  int runs_ = 0;
};

TEST_F(CampaignEndToEnd, EveryRecipientEndsWithOneFinalStateAndItsAccountingLines) {
  constexpr int kRecipients = 3001;
  std::string db = makeDatabase("campaign-all.db", kRecipients - 1);
  {
    // One recipient whose merge field no SEND can carry (over 64 KiB): it fails with the reason.
    auto store = RecipientStore::open(db);
    ASSERT_TRUE(store);
    (*store)->upsert("huge@d1.test", "d1.test", "{\"first_name\":\"" + std::string(70000, 'x') + "\"}");
  }
  test::InitiatorOptions o = options(db);
  // Gold recipients get their own material by a targeting rule.
  o.extra =
      "[[campaign.material]]\nname = \"gold\"\nfrom = \"Shop <vip@shop.example>\"\n"
      "subject = \"Gold {{first_name}}\"\ntext = \"Gold\\n\"\n"
      "[[campaign.target]]\nmaterial = \"gold\"\nall = [{ field = \"tier\", equals = \"gold\" }]\n";
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
  EXPECT_NE(initiator.err().find("event=campaign.done"), std::string::npos);

  expectOneFinalStateEach(db, kRecipients);
  auto states = stateCounts(db);
  EXPECT_GT(states["delivered"], kRecipients * 8 / 10);
  // Half of d7's RCPTs are deferred, four attempts: about 1/16 of its recipients fail.
  EXPECT_GT(states["failed"], 0);
  auto gold = query(db,
                    "SELECT count(*) FROM deliveries d JOIN recipients r ON r.id = d.recipient_id WHERE "
                    "d.material = 'gold' AND json_extract(r.attributes, '$.tier') <> 'gold'");
  EXPECT_EQ(gold[0][0], "0");
  auto gold_count = query(db, "SELECT count(*) FROM deliveries WHERE material = 'gold'");
  EXPECT_EQ(gold_count[0][0], std::to_string((kRecipients - 1) / 10));
  auto huge = query(db,
                    "SELECT d.state, d.reason FROM deliveries d JOIN recipients r ON r.id = d.recipient_id "
                    "WHERE r.email = 'huge@d1.test'");
  ASSERT_EQ(huge.size(), 1u);
  EXPECT_EQ(huge[0][0], "failed");
  EXPECT_NE(huge[0][1].find("cannot be sent: "), std::string::npos) << huge[0][1];
  // Retried deferrals prefer the other gateway.
  auto moved = query(db, "SELECT count(*) FROM deliveries WHERE attempts > 1");
  EXPECT_GT(std::stoi(moved[0][0]), 0);

  // The accounting file: a header, then one line per final state and per deferral.
  std::ifstream acc(accounting_);
  std::string line;
  std::getline(acc, line);
  EXPECT_EQ(line,
            "time,recipient,domain,material,gateway,outcome,smtp_code,enhanced_code,delivery_ms,attempt,tls,"
            "tls_verified");
  std::map<std::string, int> outcomes;
  int lines = 0;
  while (std::getline(acc, line)) {
    ++lines;
    std::vector<std::string> f;
    std::stringstream s(line);
    for (std::string x; std::getline(s, x, ',');) f.push_back(x);
    if (f.size() == 11) f.emplace_back();  // getline drops an empty last field
    ASSERT_EQ(f.size(), 12u) << line;
    ++outcomes[f[5]];
    // The gateways' RESULTs say how the sink was reached: plain SMTP, not verified. The recipient
    // no SEND could carry got no RESULT, so nothing is said.
    bool answered = f[1] != "huge@d1.test";
    EXPECT_EQ(f[10], answered ? "none" : "") << line;
    EXPECT_EQ(f[11], answered ? "false" : "") << line;
  }
  EXPECT_EQ(outcomes["delivered"], states["delivered"]);
  EXPECT_EQ(outcomes["failed"], states["failed"]);
  EXPECT_GT(outcomes["deferred"], 0);

  // Every delivered recipient reached the sink, once (nothing was killed).
  ASSERT_EQ(sink_->stop(), 0);
  auto received = receivedCounts(sink_->messageLog());
  EXPECT_EQ(static_cast<int>(received.size()), states["delivered"]);
  for (const auto& [rcpt, n] : received) EXPECT_EQ(n, 1) << rcpt;
}

// Issue 18: a material's List-Id and Feedback-ID travel initiator → gateway → receiver, once
// each in every message, and Python's email package reads them from what the receiver stored.
TEST_F(CampaignEndToEnd, ListIdAndFeedbackIdReachTheReceiver) {
  std::string message_dir = test::tempPath("campaign-list-headers");
  std::filesystem::remove_all(message_dir);
  std::filesystem::create_directories(message_dir);
  ASSERT_EQ(sink_->stop(), 0);
  sink_ = std::make_unique<test::SinkProcess>("message_dir = \"" + message_dir + "\"\n");
  ASSERT_TRUE(sink_->start()) << sink_->err();
  std::string db = makeDatabase("campaign-list-headers.db", 16);
  test::InitiatorOptions o = options(db);
  o.default_material = false;
  o.extra =
      "[[campaign.material]]\nname = \"standard\"\nfrom = \"Shop <news@shop.example>\"\nsubject = \"Hi\"\n"
      "text = \"Dear {{first_name}}\\n\"\nlist_id = \"Shop News <news.shop.example>\"\n"
      "feedback_id = \"spring:std:shopmail\"\n";
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(60)), 0) << initiator.err().substr(0, 4000);
  ASSERT_EQ(sink_->stop(), 0);
  EXPECT_EQ(static_cast<int>(sink_->messageLog().size()), stateCounts(db)["delivered"]);

  std::vector<std::string> argv{test::testEnv("LBMAIL_PYTHON"), "-c",
                                "import email, email.policy, sys\n"
                                "for path in sys.argv[1:]:\n"
                                "    m = email.message_from_bytes(open(path, 'rb').read(), policy=email.policy.default)\n"
                                "    print(m['List-Id'], m['Feedback-ID'], len(m.get_all('List-Id')),\n"
                                "          len(m.get_all('Feedback-ID')), len(m.defects), sep='|')\n"};
  for (const auto& entry : std::filesystem::directory_iterator(message_dir)) argv.push_back(entry.path());
  ASSERT_EQ(argv.size(), 3 + sink_->messageLog().size());
  ASSERT_GT(argv.size(), 3u);
  test::ChildProcess py(argv);
  ASSERT_EQ(test::exitCode(py.wait(std::chrono::seconds(60))), 0) << py.err();
  std::istringstream lines(py.out());
  size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(line, "Shop News <news.shop.example>|spring:std:shopmail|1|1|0");
  }
  EXPECT_EQ(n, argv.size() - 3);
  std::filesystem::remove_all(message_dir);
}

// Issue 16, defect 2: the gateways keep the answers of the killed run's links and hand them
// over when the campaign comes back; it takes them before it re-sends anything, so what was in
// flight at the kill is re-sent only where no gateway had started it.
TEST_F(CampaignEndToEnd, KilledInitiatorResumesLosesNobodyAndResendsAlmostNothingDelivered) {
  constexpr int kRecipients = 8000;
  std::string db = makeDatabase("campaign-resume.db", kRecipients);
  test::InitiatorOptions o = options(db);
  int64_t in_flight = 0;
  {
    test::InitiatorProcess first(o);
    ASSERT_TRUE(first.start()) << first.err();
    ASSERT_TRUE(waitForCount(first, "delivered", 1500, std::chrono::seconds(60))) << first.err().substr(0, 3000);
    // Killed while it has requests out (it pauses now and then for its database).
    ASSERT_TRUE(waitForCount(first, "in_flight", 50, std::chrono::seconds(60)));
    in_flight = first.campaignCount("in_flight");
    first.kill();
  }
  auto after_kill = stateCounts(db);
  EXPECT_LT(after_kill["delivered"], kRecipients) << "the kill came too late to test anything";

  test::InitiatorProcess second(o);
  ASSERT_TRUE(second.start()) << second.err();
  ASSERT_EQ(second.waitForExit(std::chrono::seconds(120)), 0) << second.err().substr(0, 4000);
  expectOneFinalStateEach(db, kRecipients);
  EXPECT_NE(second.err().find("event=campaign.handover_done"), std::string::npos);

  // At least once: every delivered recipient reached the sink. A second copy only where a
  // gateway's answer did not come back in time; each is a 'repeat' line in the accounting file.
  ASSERT_EQ(sink_->stop(), 0);
  auto received = receivedCounts(sink_->messageLog());
  std::set<std::string> twice;
  for (auto& row : query(db,
                         "SELECT r.email FROM deliveries d JOIN recipients r ON r.id = d.recipient_id WHERE "
                         "d.state = 'delivered'")) {
    int n = received[row[0]];
    EXPECT_GE(n, 1) << row[0];
    EXPECT_LE(n, 2) << row[0];
    if (n > 1) twice.insert(row[0]);
  }
  std::set<std::string> repeats;
  std::ifstream acc(accounting_);
  for (std::string line; std::getline(acc, line);) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    if (f.size() == 12 && f[5] == "repeat") repeats.insert(f[1]);
  }
  for (const std::string& email : twice) EXPECT_TRUE(repeats.count(email)) << email << " has no repeat line";
  EXPECT_LE(static_cast<int64_t>(twice.size()) * 100, std::max<int64_t>(in_flight, 100));
  std::printf("delivered before the kill: %d of %d; in flight at the kill: %lld; delivered twice: %zu\n",
              after_kill["delivered"], kRecipients, static_cast<long long>(in_flight), twice.size());
}

// Issue 16, defect 1: a receiver slower than result_timeout. Each attempt has its own request
// id and a deadline; the late RESULT of the first attempt is taken for what it is (a delivery,
// with its own timing), so no recipient is sent again and none is stored twice.
TEST_F(CampaignEndToEnd, ReceiverSlowerThanTheResultTimeoutGetsEachRecipientOnce) {
  ASSERT_EQ(sink_->stop(), 0);
  // The answer comes after the initiator's 1 s timeout has fired (it looks once a second).
  sink_ = std::make_unique<test::SinkProcess>("[[sink.rule]]\ndata_latency = \"2500ms\"\n");
  ASSERT_TRUE(sink_->start()) << sink_->err();
  constexpr int kRecipients = 40;
  // A connection for every message: none waits behind another's slow end of data, so each
  // first attempt starts within its deadline and answers (late) before the 4 s retry is due.
  startGateways("", "", "max_connections = " + std::to_string(kRecipients) + "\n");
  std::string db = makeDatabase("campaign-slow.db", kRecipients);
  test::InitiatorOptions o = options(db);
  o.campaign_extra =
      "retry_schedule = [\"4s\"]\nmax_attempts = 3\nresult_timeout = \"1s\"\naccounting_file = \"" + accounting_ +
      "\"\n";
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
  EXPECT_NE(initiator.err().find("event=campaign.late_delivery"), std::string::npos);
  expectOneFinalStateEach(db, kRecipients);
  EXPECT_EQ(stateCounts(db)["delivered"], kRecipients);
  auto rows = query(db, "SELECT attempts, delivery_ms FROM deliveries WHERE campaign = 'test'");
  for (const auto& row : rows) {
    EXPECT_EQ(row[0], "1");
    EXPECT_GE(std::stod(row[1]), 2400.0);  // the first attempt's own time, not a later one's
  }
  ASSERT_EQ(sink_->stop(), 0);
  auto received = receivedCounts(sink_->messageLog());
  EXPECT_EQ(static_cast<int>(received.size()), kRecipients);
  for (const auto& [rcpt, n] : received) EXPECT_EQ(n, 1) << rcpt;
}

TEST_F(CampaignEndToEnd, KilledGatewaysRequestsAreDeliveredThroughTheOther) {
  constexpr int kRecipients = 6000;
  std::string db = makeDatabase("campaign-failover.db", kRecipients);
  test::InitiatorOptions o = options(db);
  // Round-robin: both gateways certainly hold requests when one is killed (ewma may have moved
  // every domain to the other one by then, and there would be nothing to fail over).
  o.extra = "[selection]\npolicy = \"round_robin\"\n";
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_TRUE(waitForCount(initiator, "delivered", 1000, std::chrono::seconds(60))) << initiator.err().substr(0, 3000);
  ASSERT_TRUE(killHoldingRequests(initiator, 0)) << "gw1 never held a request";
  ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
  expectOneFinalStateEach(db, kRecipients);
  EXPECT_NE(initiator.err().find("event=campaign.failover gateway=gw1"), std::string::npos)
      << initiator.err().substr(0, 4000);
  // After the kill only gw2 delivers: its share is well above half.
  auto by_gateway = query(db, "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND gateway = 'gw2'");
  EXPECT_GT(std::stoi(by_gateway[0][0]), kRecipients / 2);
}

// A gateway killed and started again on its address: the link reconnects, the materials are
// defined again, and the gateway takes traffic again.
TEST_F(CampaignEndToEnd, GatewayThatComesBackIsUsedAgain) {
  constexpr int kRecipients = 30000;
  std::string db = makeDatabase("campaign-comeback.db", kRecipients);
  test::InitiatorOptions o = options(db);
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_TRUE(waitForCount(initiator, "delivered", 1000, std::chrono::seconds(60))) << initiator.err().substr(0, 3000);
  SocketAddress address = gateways_[0]->link();
  ASSERT_TRUE(killHoldingRequests(initiator, 0)) << "gw1 never held a request";
  gateways_[0]->child().wait();
  ASSERT_TRUE(initiator.waitForStderrLine("event=campaign.failover gateway=gw1")) << initiator.err().substr(0, 4000);

  test::GatewayOptions go;
  go.name = "gw1";
  go.listen = address.toString();
  go.smtp_port = sink_->smtp().port();
  go.dns_server = dns_.address().toString();
  go.capacity = 200;
  gateways_[0] = std::make_unique<test::GatewayProcess>(go);
  ASSERT_TRUE(gateways_[0]->start()) << gateways_[0]->err();
  double restarted = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(initiator.waitForStderrLine("event=campaign.gateway_up gateway=gw1")) << initiator.err().substr(0, 4000);

  ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
  expectOneFinalStateEach(db, kRecipients);
  auto after = query(db,
                     "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND gateway = 'gw1' AND "
                     "updated_at > " +
                         std::to_string(restarted));
  EXPECT_GT(std::stoi(after[0][0]), 0) << "the restarted gateway took no traffic";
}

// A material with an attachment: the gateway without the media refuses it once and is left out
// for that material; when no gateway has the media, every recipient fails saying so.
TEST_F(CampaignEndToEnd, MaterialGoesOnlyWhereItsMediaAre) {
  test::MediaFixture media("campaign");
  media.addRandomFile("offer.pdf", 5000);
  media.build();
  auto run = [&](const std::string& name) {
    std::string db = makeDatabase(name, 300);
    test::InitiatorOptions o = options(db);
    o.default_material = false;
    o.campaign_extra += "media = \"" + media.cache() + "\"\ndefault_material = \"offer\"\n";
    o.extra =
        "[[campaign.material]]\nname = \"offer\"\nfrom = \"Shop <news@shop.example>\"\n"
        "subject = \"Offer\"\ntext = \"See the attachment.\\n\"\nattachments = [\"offer.pdf\"]\n";
    test::InitiatorProcess initiator(o);
    EXPECT_TRUE(initiator.start()) << initiator.err();
    EXPECT_EQ(initiator.waitForExit(std::chrono::seconds(60)), 0) << initiator.err().substr(0, 4000);
    expectOneFinalStateEach(db, 300);
    return db;
  };

  // Only gw2 holds the cache: every recipient goes through gw2 (and all but some of d7's,
  // which the sink defers, are delivered).
  startGateways("", media.cache());
  std::string db = run("campaign-media-one.db");
  auto rows = query(db, "SELECT DISTINCT gateway FROM deliveries");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "gw2");
  rows = query(db,
               "SELECT count(*) FROM deliveries d JOIN recipients r ON r.id = d.recipient_id WHERE "
               "d.state = 'delivered' OR r.domain = 'd7.test'");
  EXPECT_EQ(rows[0][0], "300");

  // Neither holds it: every recipient fails with the reason.
  for (auto& g : gateways_) EXPECT_EQ(g->stop(), 0);
  gateways_.clear();
  startGateways();
  db = run("campaign-media-none.db");
  rows = query(db, "SELECT state, reason, count(*) FROM deliveries GROUP BY 1, 2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "failed");
  EXPECT_EQ(rows[0][1], "material offer: its media are missing on every gateway");
  EXPECT_EQ(rows[0][2], "300");
}

TEST_F(CampaignEndToEnd, LivePageShowsGatewaysByDomainsInChromium) {
  if (test::chromiumPath().empty()) GTEST_FAIL() << "chromium is not installed (scripts/install-deps installs it)";
  constexpr int kRecipients = 800;
  std::string db = makeDatabase("campaign-page.db", kRecipients);
  test::InitiatorOptions o = options(db);
  o.campaign_extra += "exit_when_done = false\n";
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_TRUE(initiator.waitForStderrLine("event=campaign.done")) << initiator.err().substr(0, 3000);
  auto dom = test::renderedDom("http://" + initiator.admin().toString() + "/", std::chrono::seconds(30));
  ASSERT_TRUE(dom);
  EXPECT_NE(dom->find("id=\"ewma\""), std::string::npos) << *dom;
  // A cell per gateway and domain, each with the expected delivery time the table holds.
  int cells = 0;
  for (size_t at = dom->find("data-gateway=\""); at != std::string::npos; at = dom->find("data-gateway=\"", at + 1)) {
    ++cells;
  }
  EXPECT_EQ(cells, 2 * kDomains) << *dom;
  for (int d = 0; d < kDomains; ++d) {
    EXPECT_NE(dom->find("data-gateway=\"gw1\" data-domain=\"d" + std::to_string(d) + ".test\" data-ms=\""),
              std::string::npos)
        << *dom;
  }
  EXPECT_EQ(dom->find("data-ms=\"\""), std::string::npos) << "every cell has samples after a whole campaign";
  EXPECT_NE(dom->find("id=\"state\""), std::string::npos);
  EXPECT_EQ(initiator.stop(), 0);
}

}  // namespace
}  // namespace lbmail
