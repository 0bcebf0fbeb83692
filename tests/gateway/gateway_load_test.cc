// The gateway's load reports (issue 22) over real processes: RESULT's queue field for an
// initiator that reads it (none for one that does not), and PROBE answered at once with the
// requests in flight there and the moving average of its answers' total times.
#include <gtest/gtest.h>

#include <algorithm>

#include "gateway_process.h"
#include "loop_thread.h"
#include "sink_process.h"
#include "tcp_client.h"
#include "test_initiator.h"

namespace lbmail {
namespace {

using test::LoadMode;
using test::TestAnswer;
using test::TestRequest;

constexpr size_t kRequests = 4;

// One SMTP connection at a time with one message each, each greeting slow: the requests wait in
// the gateway's queue for their turn, one after another.
class GatewayLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sink_.start()) << sink_.err();
    test::GatewayOptions go;
    go.smtp_port = sink_.smtp().port();
    go.smtp_extra = "max_connections = 1\nmax_messages_per_connection = 1\n";
    go.extra = "[[dns.route]]\ndomain = \"d1.test\"\naddresses = [\"" + sink_.smtp().toString() + "\"]\n";
    gateway_ = std::make_unique<test::GatewayProcess>(go);
    ASSERT_TRUE(gateway_->start()) << gateway_->err();
  }

  void TearDown() override {
    if (gateway_) {
      EXPECT_EQ(gateway_->stop(), 0);
    }
    EXPECT_EQ(sink_.stop(), 0);
  }

  static std::vector<test::TestMaterial> materials() {
    test::TestMaterial m;
    m.id = 1;
    m.parts = {{proto::MaterialPartKind::kFrom, "Shop <news@shop.example>"},
               {proto::MaterialPartKind::kSubject, "Offer"},
               {proto::MaterialPartKind::kText, "Hello\n"}};
    return {m};
  }

  static std::vector<TestRequest> requests() {
    std::vector<TestRequest> out;
    for (uint64_t id = 1; id <= kRequests; ++id) {
      TestRequest r;
      r.id = id;
      r.sender = "bounces@shop.example";
      r.recipient = "user" + std::to_string(id) + "@d1.test";
      r.material = 1;
      out.push_back(r);
    }
    return out;
  }

  // The answers in the order they arrived.
  static std::vector<TestAnswer> flat(const std::map<uint64_t, std::vector<TestAnswer>>& answers) {
    std::vector<TestAnswer> out;
    for (const auto& [id, list] : answers) out.insert(out.end(), list.begin(), list.end());
    return out;
  }

  test::SinkProcess sink_{"[[sink.rule]]\ngreeting_latency = \"200ms\"\n"};
  std::unique_ptr<test::GatewayProcess> gateway_;
};

TEST_F(GatewayLoad, ResultsCarryTheQueueAndProbesAreAnsweredWithInFlightAndLatency) {
  test::LoopThread loop;
  test::TestInitiator initiator(loop.loop(), *gateway_, materials(), requests(), 0, test::FeedbackMode::kNone,
                                LoadMode::kProbeWithSends);
  loop.call([&] { initiator.start(); });
  ASSERT_TRUE(initiator.waitForProbeReplies(1, std::chrono::seconds(30))) << gateway_->err();
  ASSERT_TRUE(initiator.waitForAnswers(kRequests, std::chrono::seconds(30))) << gateway_->err();
  uint64_t capabilities = 0;
  loop.call([&] {
    capabilities = initiator.gatewayCapabilities();
    initiator.probe(99);  // nothing in flight any more
  });
  ASSERT_TRUE(initiator.waitForProbeReplies(2, std::chrono::seconds(30)));
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  EXPECT_NE(capabilities & proto::kCapabilityLoad, 0u);

  std::vector<TestAnswer> answers = flat(initiator.answers());
  ASSERT_EQ(answers.size(), kRequests);
  uint32_t most_queued = 0;
  uint64_t shortest = UINT64_MAX, longest = 0;
  for (const TestAnswer& a : answers) {
    EXPECT_EQ(a.outcome, proto::Outcome::kDelivered) << a.text;
    EXPECT_TRUE(a.has_load);
    most_queued = std::max(most_queued, a.queue);
    shortest = std::min(shortest, a.timings.total_us);
    longest = std::max(longest, a.timings.total_us);
  }
  // While the first was delivered the others waited for the one connection.
  EXPECT_GE(most_queued, 1u);
  EXPECT_LE(most_queued, kRequests - 1);

  std::vector<proto::ProbeReplyFrame> replies = initiator.probeReplies();
  ASSERT_EQ(replies.size(), 2u);
  // The first PROBE followed the SENDs on the stream: they were all in flight, none answered
  // (each takes at least a slow greeting), and no answer had been measured yet.
  EXPECT_GE(replies[0].token, 1u);
  EXPECT_EQ(replies[0].requests_in_flight, replies[0].token);
  EXPECT_EQ(replies[0].latency_us, 0u);
  EXPECT_EQ(replies[1].token, 99u);
  EXPECT_EQ(replies[1].requests_in_flight, 0u);
  // A moving average of the answers' total times lies between the shortest and the longest.
  EXPECT_GE(replies[1].latency_us + 1, shortest);
  EXPECT_LE(replies[1].latency_us, longest + 1);
  auto metrics = test::httpGet(gateway_->admin(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("lbmail_gateway_probes_total 2\n"), std::string::npos) << metrics->body;
}

TEST_F(GatewayLoad, AnInitiatorBeforeLoadReportsGetsResultsWithoutTheQueue) {
  test::LoopThread loop;
  test::TestInitiator initiator(loop.loop(), *gateway_, materials(), requests());
  loop.call([&] { initiator.start(); });
  ASSERT_TRUE(initiator.waitForAnswers(kRequests, std::chrono::seconds(30))) << gateway_->err();
  loop.call([&] { initiator.stop([] {}); });
  EXPECT_EQ(loop.stop(), 0);
  for (const TestAnswer& a : flat(initiator.answers())) {
    EXPECT_EQ(a.outcome, proto::Outcome::kDelivered) << a.text;
    EXPECT_TRUE(a.has_shaping);  // what it asked for still comes
    EXPECT_FALSE(a.has_load);    // it would refuse the bytes after the fields it knows
  }
}

}  // namespace
}  // namespace lbmail
