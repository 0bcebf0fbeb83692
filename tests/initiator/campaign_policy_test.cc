// The rivals from the load-balancing literature (issue 22) run a real campaign: `lbmail
// initiator` with [selection] policy c3 or prequal over two `lbmail gateway`s into one `lbmail
// sink`. Every recipient is delivered once, both gateways carry traffic, and the gateways'
// load reports (RESULT's queue, PROBE for prequal) flow without upsetting either side: prequal's
// probes reach the gateways and are answered.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "initiator_process.h"
#include "recipient_store.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "temp_path.h"

namespace lbmail {
namespace {

constexpr int kDomains = 4;
constexpr int kRecipients = 400;

std::string makeDatabase(const std::string& name) {
  std::string path = test::tempPath(name);
  std::filesystem::remove(path);
  auto store = RecipientStore::open(path);
  EXPECT_TRUE(store) << store.error();
  (*store)->beginBatch();
  for (int i = 0; i < kRecipients; ++i) {
    std::string domain = "d" + std::to_string(i % kDomains) + ".test";
    (*store)->upsert("user" + std::to_string(i) + "@" + domain, domain, "{\"first_name\":\"N\"}");
  }
  (*store)->commitBatch();
  return path;
}

// One number from the database (a count).
int64_t scalar(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  int64_t v = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

// The PROBEs a gateway answered, from its /metrics; -1 when they cannot be read.
int64_t probesAnswered(const test::GatewayProcess& gateway) {
  auto metrics = test::httpGet(gateway.admin(), "/metrics");
  if (!metrics) return -1;
  const std::string name = "\nlbmail_gateway_probes_total ";
  size_t at = metrics->body.find(name);
  return at == std::string::npos ? -1 : std::stoll(metrics->body.substr(at + name.size()));
}

class CampaignPolicy : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_EQ(dns_.start(), "");
    ASSERT_TRUE(sink_.start()) << sink_.err();
    for (int i = 1; i <= 2; ++i) {
      test::GatewayOptions go;
      go.name = "gw" + std::to_string(i);
      go.smtp_port = sink_.smtp().port();
      go.dns_server = dns_.address().toString();
      go.capacity = 50;
      gateways_.push_back(std::make_unique<test::GatewayProcess>(go));
      ASSERT_TRUE(gateways_.back()->start()) << gateways_.back()->err();
    }
  }

  test::DnsmasqServer dns_{test::loopbackMxRecords(kDomains)};
  test::SinkProcess sink_{"[[sink.rule]]\ndata_latency = \"1ms..5ms\"\n"};
  std::vector<std::unique_ptr<test::GatewayProcess>> gateways_;
};

TEST_P(CampaignPolicy, DeliversEveryRecipientOnceThroughBothGateways) {
  std::string policy = GetParam();
  std::string db = makeDatabase("campaign-policy-" + policy + ".db");
  test::InitiatorOptions o;
  o.database = db;
  for (size_t i = 0; i < gateways_.size(); ++i) {
    o.gateways.push_back({"gw" + std::to_string(i + 1), gateways_[i]->link(), gateways_[i]->keyFile()});
  }
  o.campaign_extra = "retry_schedule = [\"200ms\"]\nmax_attempts = 3\n";
  o.extra = "[selection]\npolicy = \"" + policy + "\"\n";
  test::InitiatorProcess initiator(o);
  ASSERT_TRUE(initiator.start()) << initiator.err();
  ASSERT_EQ(initiator.waitForExit(std::chrono::seconds(120)), 0) << initiator.err().substr(0, 4000);
  EXPECT_NE(initiator.err().find("event=campaign.done"), std::string::npos);
  // No link was closed for a protocol error: every frame of either side was understood.
  EXPECT_EQ(initiator.err().find("malformed"), std::string::npos) << initiator.err().substr(0, 4000);
  EXPECT_EQ(initiator.err().find("unknown frame type"), std::string::npos) << initiator.err().substr(0, 4000);
  for (auto& g : gateways_) {
    EXPECT_EQ(g->err().find("malformed"), std::string::npos) << g->err().substr(0, 4000);
  }

  EXPECT_EQ(scalar(db, "SELECT count(*) FROM deliveries WHERE campaign = 'test' AND state = 'delivered'"), kRecipients);
  EXPECT_EQ(scalar(db, "SELECT count(DISTINCT recipient_id) FROM deliveries WHERE state = 'delivered'"), kRecipients);
  EXPECT_GT(scalar(db, "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND gateway = 'gw1'"), 0);
  EXPECT_GT(scalar(db, "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND gateway = 'gw2'"), 0);
  // prequal probes the gateways after its decisions, and they answer; c3 never probes.
  int64_t probes = 0;
  for (auto& g : gateways_) probes += probesAnswered(*g);
  if (policy == "prequal") {
    EXPECT_GT(probes, 0);
  } else {
    EXPECT_EQ(probes, 0);
  }
  for (auto& g : gateways_) {
    EXPECT_EQ(g->stop(), 0);
  }
  EXPECT_EQ(sink_.stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Rivals, CampaignPolicy, ::testing::Values("c3", "prequal"));

}  // namespace
}  // namespace lbmail
