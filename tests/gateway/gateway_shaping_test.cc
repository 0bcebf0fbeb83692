// Shaping on a real gateway (docs/shaping.md): a block reply suspends the site for the
// gateway's address and what waits for it comes back unsent (REJECT site unavailable), a
// warm-up cap is never exceeded, a throttle reply slows the site down instead of backing the
// destination off, and the state survives a restart. Real processes: dnsmasq, lbmail sink,
// lbmail gateway, and a test initiator on the link library.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>

#include "dnsmasq_server.h"
#include "gateway_process.h"
#include "loop_thread.h"
#include "sink_process.h"
#include "temp_path.h"
#include "test_initiator.h"

namespace lbmail {
namespace {

using proto::MaterialPartKind;
using test::TestAnswer;
using test::TestRequest;

constexpr uint8_t kDelivered = 1;  // shaping::ReplyClass's wire numbers
constexpr uint8_t kBlock = 3;
constexpr uint8_t kThrottle = 4;

std::string today() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

class GatewayShaping : public ::testing::Test {
 protected:
  GatewayShaping() : dir_(test::tempPath("shaping")), dns_(test::loopbackMxRecords(3)) {
    std::filesystem::create_directories(dir_);
  }
  ~GatewayShaping() override { std::filesystem::remove_all(dir_); }

  void SetUp() override { ASSERT_EQ(dns_.start(), ""); }

  test::GatewayOptions options(const test::SinkProcess& sink, const std::string& shaping) {
    test::GatewayOptions go;
    go.smtp_port = sink.smtp().port();
    go.dns_server = dns_.address().toString();
    go.extra = "[shaping]\nstate_file = \"" + dir_ + "/shaping.state\"\n" + shaping;
    return go;
  }

  static test::TestMaterial material() {
    test::TestMaterial m;
    m.id = 1;
    m.parts = {{MaterialPartKind::kFrom, "Shop <news@shop.example>"},
               {MaterialPartKind::kSubject, "Offer"},
               {MaterialPartKind::kText, "Hello.\n"}};
    return m;
  }

  static TestRequest request(uint64_t id, int domain) {
    TestRequest r;
    r.id = id;
    r.sender = "bounces@shop.example";
    r.recipient = "user" + std::to_string(id) + "@d" + std::to_string(domain) + ".test";
    r.material = 1;
    return r;
  }

  struct Run {
    std::map<uint64_t, std::vector<TestAnswer>> answers;
    std::vector<std::vector<test::TestSite>> sites;
  };

  // Sends the requests over one link and waits for every answer.
  Run run(test::GatewayProcess& gateway, std::vector<TestRequest> requests) {
    size_t n = requests.size();
    test::LoopThread loop;
    test::TestInitiator initiator(loop.loop(), gateway, {material()}, std::move(requests));
    loop.call([&] { initiator.start(); });
    bool all = initiator.waitForAnswers(n, std::chrono::seconds(60));
    loop.call([&] { initiator.stop([] {}); });
    EXPECT_EQ(loop.stop(), 0);
    EXPECT_TRUE(all) << gateway.err().substr(0, 4000);
    return {initiator.answers(), initiator.sites()};
  }

  static const TestAnswer& only(const Run& r, uint64_t id) {
    static const TestAnswer none;
    auto it = r.answers.find(id);
    EXPECT_TRUE(it != r.answers.end() && it->second.size() == 1) << "request " << id;
    return it != r.answers.end() && !it->second.empty() ? it->second.front() : none;
  }

  static bool reportedSite(const Run& r, const std::string& site, bool (*pred)(const test::TestSite&)) {
    for (const auto& frame : r.sites) {
      for (const test::TestSite& s : frame) {
        if (s.site == site && pred(s)) return true;
      }
    }
    return false;
  }

  std::string dir_;
  test::DnsmasqServer dns_;
};

TEST_F(GatewayShaping, ABlockReplySuspendsTheSiteAndWhatWaitsComesBackUnsentAcrossARestart) {
  // Every message to d1.test is refused at the end of data with 554 5.7.1 (a policy refusal:
  // class block by RFC 3463 alone, no rules file). One connection, one message each: the rest
  // wait in the queue while the first is refused.
  test::SinkProcess sink("[[sink.rule]]\ndomain = \"d1.test\"\nbounce_data = 1.0\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go = options(sink, "suspend_for = \"1h\"\n");
  go.smtp_extra = "max_connections = 1\nmax_messages_per_connection = 1\n";
  auto gateway = std::make_unique<test::GatewayProcess>(go);
  ASSERT_TRUE(gateway->start()) << gateway->err();
  std::vector<TestRequest> requests;
  for (uint64_t id = 1; id <= 8; ++id) requests.push_back(request(id, 1));
  for (uint64_t id = 11; id <= 12; ++id) requests.push_back(request(id, 2));
  Run first = run(*gateway, requests);

  size_t refused = 0;
  size_t unavailable = 0;
  for (uint64_t id = 1; id <= 8; ++id) {
    const TestAnswer& a = only(first, id);
    if (a.rejected) {
      EXPECT_EQ(a.reason, proto::RejectReason::kSiteUnavailable) << a.text;
      EXPECT_EQ(a.site, "mx.d1.test");
      ++unavailable;
    } else {
      EXPECT_EQ(a.outcome, proto::Outcome::kBounced) << a.text;
      EXPECT_EQ(a.enhanced, "5.7.1");
      EXPECT_TRUE(a.has_shaping);
      EXPECT_EQ(a.reply_class, kBlock);
      EXPECT_EQ(a.site, "mx.d1.test");
      ++refused;
    }
  }
  EXPECT_GE(refused, 1u);
  EXPECT_GE(unavailable, 5u) << "only the first messages may reach the receiver before the suspension";
  // Another site is not touched.
  for (uint64_t id = 11; id <= 12; ++id) {
    const TestAnswer& a = only(first, id);
    EXPECT_FALSE(a.rejected) << a.text;
    EXPECT_EQ(a.outcome, proto::Outcome::kDelivered) << a.text;
    EXPECT_EQ(a.reply_class, kDelivered);
    EXPECT_EQ(a.site, "mx.d2.test");
  }
  EXPECT_TRUE(reportedSite(first, "mx.d1.test", [](const test::TestSite& s) { return s.suspended_ms > 0; }));
  EXPECT_EQ(gateway->stop(), 0);

  // The suspension is kept: a new gateway process with the same state file refuses at once.
  go.listen = gateway->link().toString();
  gateway = std::make_unique<test::GatewayProcess>(go);
  ASSERT_TRUE(gateway->start()) << gateway->err();
  Run second = run(*gateway, {request(21, 1), request(22, 2)});
  const TestAnswer& again = only(second, 21);
  EXPECT_TRUE(again.rejected);
  EXPECT_EQ(again.reason, proto::RejectReason::kSiteUnavailable) << again.text;
  EXPECT_EQ(only(second, 22).outcome, proto::Outcome::kDelivered);
  EXPECT_TRUE(reportedSite(second, "mx.d1.test", [](const test::TestSite& s) { return s.suspended_ms > 0; }))
      << "a new link hears of the suspension before its first SEND";
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
}

TEST_F(GatewayShaping, AWarmUpCapIsNeverExceededAndHoldsAcrossARestart) {
  test::SinkProcess sink("");
  ASSERT_TRUE(sink.start()) << sink.err();
  test::GatewayOptions go = options(sink, "[[shaping.warmup]]\nstart = \"" + today() + "\"\ndaily_caps = [4]\n");
  auto gateway = std::make_unique<test::GatewayProcess>(go);
  ASSERT_TRUE(gateway->start()) << gateway->err();
  std::vector<TestRequest> requests;
  for (uint64_t id = 1; id <= 6; ++id) requests.push_back(request(id, 0));
  Run first = run(*gateway, requests);
  size_t delivered = 0;
  size_t capped = 0;
  for (uint64_t id = 1; id <= 6; ++id) {
    const TestAnswer& a = only(first, id);
    if (a.rejected) {
      EXPECT_EQ(a.reason, proto::RejectReason::kSiteUnavailable) << a.text;
      EXPECT_NE(a.text.find("warm-up"), std::string::npos) << a.text;
      ++capped;
    } else {
      EXPECT_EQ(a.outcome, proto::Outcome::kDelivered) << a.text;
      ++delivered;
    }
  }
  EXPECT_EQ(delivered, 4u);
  EXPECT_EQ(capped, 2u);
  EXPECT_TRUE(reportedSite(first, "mx.d0.test", [](const test::TestSite& s) { return s.warmup_left == 0; }));
  EXPECT_EQ(gateway->stop(), 0);

  go.listen = gateway->link().toString();
  gateway = std::make_unique<test::GatewayProcess>(go);
  ASSERT_TRUE(gateway->start()) << gateway->err();
  Run second = run(*gateway, {request(7, 0), request(8, 1)});
  EXPECT_TRUE(only(second, 7).rejected) << "today's usage of the site survives the restart";
  EXPECT_EQ(only(second, 8).outcome, proto::Outcome::kDelivered) << "another site has its own cap";
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_EQ(sink.stop(), 0);
  size_t to_d0 = 0;
  for (const std::string& line : sink.messageLog()) to_d0 += line.find("@d0.test") != std::string::npos;
  EXPECT_EQ(to_d0, 4u);
}

TEST_F(GatewayShaping, ThrottleRepliesSlowTheSiteInsteadOfBackingTheDestinationOff) {
  // More than 3 messages a second from one client get 421 at MAIL FROM.
  test::SinkProcess sink("[[sink.rule]]\nmax_message_rate = 3\n");
  ASSERT_TRUE(sink.start()) << sink.err();
  auto gateway = std::make_unique<test::GatewayProcess>(options(sink, ""));
  ASSERT_TRUE(gateway->start()) << gateway->err();
  std::vector<TestRequest> requests;
  for (uint64_t id = 1; id <= 15; ++id) requests.push_back(request(id, 2));
  Run r = run(*gateway, requests);
  size_t delivered = 0;
  size_t throttled = 0;
  for (uint64_t id = 1; id <= 15; ++id) {
    const TestAnswer& a = only(r, id);
    ASSERT_FALSE(a.rejected) << a.text;
    if (a.outcome == proto::Outcome::kDelivered) {
      ++delivered;
    } else {
      EXPECT_EQ(a.outcome, proto::Outcome::kDeferred) << a.text;
      EXPECT_EQ(a.reply_class, kThrottle) << a.text;
      ++throttled;
    }
  }
  EXPECT_GE(delivered, 3u);
  EXPECT_GE(throttled, 1u);
  EXPECT_TRUE(reportedSite(r, "mx.d2.test", [](const test::TestSite& s) { return s.rate_millis > 0; }));
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_EQ(gateway->err().find("smtp.destination_backoff"), std::string::npos)
      << "a throttle is no refusal: " << gateway->err().substr(0, 4000);
  EXPECT_EQ(sink.stop(), 0);
}

}  // namespace
}  // namespace lbmail
