// Tests for src/initiator/campaign_status.cc: the /status members a campaign writes, key for
// key (the live page and the end-to-end tests read them), and the progress snapshot.
#include "campaign_status.h"

#include <gtest/gtest.h>
#include <uv.h>

namespace lbmail {
namespace {

struct NoListener : GatewayLinks::Listener {
  void onLinkUp(size_t) override {}
  void onLinkFrame(size_t, const proto::Frame&) override {}
  void onLinkDown(size_t, std::string_view) override {}
};

class CampaignStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    for (const char* name : {"gw-a", "gw-b"}) {
      GatewayEndpoint g;
      g.name = name;
      g.address = *SocketAddress::parse(std::string(name) == "gw-a" ? "127.0.0.1:9101" : "127.0.0.1:9102");
      config_.gateways.push_back(g);
    }
    config_.campaign.name = "spring";
  }
  void TearDown() override { EXPECT_EQ(uv_loop_close(&loop_), 0); }

  uv_loop_t loop_;
  InitiatorConfig config_;
  NoListener listener_;
  MetricsRegistry metrics_;
};

TEST_F(CampaignStatusTest, WritesEveryKeyOfTheCampaignItsGatewaysAndTheTable) {
  GatewayLinks links(&loop_, config_, listener_);  // not connected: no link yet
  GatewayDispatcher dispatcher(2, config_.selection);
  CampaignCounts counts(2, metrics_);
  uint32_t d = dispatcher.table().domainId("d.example");
  dispatcher.table().recordDelivery(0, d, 40, 1000);
  dispatcher.sent(d, 1, 1000);
  counts.sent(0, d);
  counts.sent(1, d);
  counts.result(0, RecipientState::kDelivered, "TLSv1.3", true);
  counts.changed(RecipientState::kDelivered);
  counts.changed(RecipientState::kDeferred);
  LedgerCounts at_start{10, 2, 1, 0, 3};
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  writeCampaignStatus(w, {"spring", "running", at_start, counts, 4, 1, SelectionPolicy::kEwma, links, dispatcher});
  w.endObject();
  EXPECT_EQ(out,
            R"({"campaign":{"name":"spring","state":"running","total":10,"sent":2,"delivered":3,"deferred":4,)"
            R"("bounced":1,"failed":0,"suppressed":0,"in_flight":1,"deferrals":1,"failovers":0,"rejects":0,)"
            R"("rate_per_second":0,)"
            R"("eta_seconds":null,"policy":"ewma","decisions":0,"explorations":0,"switches":0,)"
            R"("tls":{"TLSv1.3":{"delivered":1,"verified":1}}},)"
            R"("gateways":[{"name":"gw-a","address":"127.0.0.1:9101","up":false,"credit":0,"in_flight":0,"rtt_ms":0,)"
            R"("link_bytes_sent":0,"link_bytes_received":0,"sent":1,"delivered":1,"deferred":0,"bounced":0,"failed":0,)"
            R"("site_unavailable":0,"throttle_requeue":0,"block_reroute":0,"sites":[]},)"
            R"({"name":"gw-b","address":"127.0.0.1:9102","up":false,"credit":0,"in_flight":1,"rtt_ms":0,)"
            R"("link_bytes_sent":0,"link_bytes_received":0,"sent":1,"delivered":0,"deferred":0,"bounced":0,"failed":0,)"
            R"("site_unavailable":0,"throttle_requeue":0,"block_reroute":0,"sites":[]}],)"
            R"("table":{"gateways":["gw-a","gw-b"],"domains":[{"domain":"d.example","sent":2,"current":-1,)"
            R"("expected_ms":[40,null],"source":["samples","none"]}]}})");
}

// Issue 20: each gateway's recipients routed around its shaping, and the sites its last SITES
// frame named, as they stand at the status's time.
TEST_F(CampaignStatusTest, EachGatewayShowsWhatWasRoutedAroundItAndTheSitesItShapes) {
  GatewayLinks links(&loop_, config_, listener_);
  GatewayDispatcher dispatcher(2, config_.selection);
  CampaignCounts counts(2, metrics_);
  counts.shaped(0, ShapingEvent::kSiteUnavailable, "gw-a");
  counts.shaped(0, ShapingEvent::kSiteUnavailable, "gw-a");
  counts.shaped(1, ShapingEvent::kThrottleRequeue, "gw-b");
  counts.shaped(0, ShapingEvent::kBlockReroute, "gw-a");
  proto::SitesFrame f;
  f.sites = {{"gmail", 60'000, 0, 3, proto::SiteStatus::kNoWarmupCap}, {"yahoo", 0, 2'500, 0, 40}};
  dispatcher.sites().report(0, f, 1'000);
  uint32_t d = dispatcher.table().domainId("yahoo.example");
  dispatcher.learnSite(d, "yahoo");
  dispatcher.sent(d, 0, 1000);
  LedgerCounts at_start{};
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  writeCampaignStatus(w, {"spring", "running", at_start, counts, 0, 0, SelectionPolicy::kEwma, links, dispatcher, 21'000});
  w.endObject();
  EXPECT_NE(out.find(R"("failed":0,"site_unavailable":2,"throttle_requeue":0,"block_reroute":1,"sites":[)"
                     R"({"site":"gmail","suspended":true,"suspended_ms":40000,"rate":0,"queued":3,"warmup_left":null,)"
                     R"("in_flight":0,"sent_since_report":0},)"
                     R"({"site":"yahoo","suspended":false,"suspended_ms":0,"rate":2.5,"queued":0,"warmup_left":40,)"
                     R"("in_flight":1,"sent_since_report":1}]})"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("failed":0,"site_unavailable":0,"throttle_requeue":1,"block_reroute":0,"sites":[]})"),
            std::string::npos)
      << out;
  std::string metrics = metrics_.renderPrometheus();
  EXPECT_NE(metrics.find(R"(lbmail_initiator_routed_around_total{gateway="gw-a",reason="site_unavailable"} 2)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(lbmail_initiator_routed_around_total{gateway="gw-b",reason="throttle_requeue"} 1)"),
            std::string::npos);
}

TEST_F(CampaignStatusTest, TheProgressSnapshotAddsThisRunToWhatTheLedgerHeld) {
  CampaignCounts counts(1, metrics_);
  counts.sent(0, 0);
  counts.changed(RecipientState::kBounced);
  counts.changed(RecipientState::kFailed);
  ProgressReporter::Snapshot s = progressSnapshot({10, 2, 1, 1, 3}, counts, 5, 6);
  EXPECT_EQ(s.total, 10u);
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.delivered, 2u);
  EXPECT_EQ(s.bounced, 2u);
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.deferred, 5u);
  EXPECT_EQ(s.in_flight, 6u);
}

}  // namespace
}  // namespace lbmail
