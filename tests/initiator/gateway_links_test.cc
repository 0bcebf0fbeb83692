// Tests for src/initiator/gateway_links.cc: the stable request id, SEND frames built from a
// pending recipient, orphan bookkeeping and media flags without a gateway, and, against a real
// link acceptor on the same libuv loop, the MATERIAL frames sent when a link comes up.
#include "gateway_links.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <uv.h>

#include <fstream>
#include <map>
#include <utility>

#include "campaign_feedback.h"
#include "campaign_ledger.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/proto/link_acceptor.h"
#include "ledger_test_support.h"
#include "temp_path.h"

namespace lbmail {
namespace {

using proto::MaterialPartKind;

constexpr const char* kKey = "0123456789abcdef0123456789abcdef";

InitiatorConfig config(size_t gateways) {
  InitiatorConfig c;
  c.service.node_name = "initiator-test";
  c.campaign.name = "spring";
  c.campaign.sender = "bounce@sender.test";
  c.campaign.materials.resize(2);
  CampaignMaterial& full = c.campaign.materials[0];
  full.name = "full";
  full.from = "News <news@sender.test>";
  full.reply_to = "help@sender.test";
  full.subject = "Hello {{name}}";
  full.text = "Hi {{name}} from {{city}}";
  full.html = "<p>Hi {{name}}</p>";
  full.list_unsubscribe = "<mailto:unsubscribe@sender.test>";
  full.list_id = "News <news.sender.test>";
  full.feedback_id = "spring:sender1";
  full.media.push_back({media::MediaHash{1, 2, 3}, true, "logo"});
  full.media.push_back({media::MediaHash{4, 5, 6}, false, "terms.pdf"});
  CampaignMaterial& bare = c.campaign.materials[1];
  bare.name = "bare";
  bare.from = "news@sender.test";
  c.campaign.merge_fields = {{"name", "first_name"}, {"city", "city"}};
  for (size_t i = 0; i < gateways; ++i) {
    c.gateways.push_back({"gw" + std::to_string(i + 1), *SocketAddress::parse("127.0.0.1:1"), {}});
  }
  return c;
}

class RecordingListener : public GatewayLinks::Listener {
 public:
  void onLinkUp(size_t g) override { ups.push_back(g); }
  void onLinkFrame(size_t, const proto::Frame&) override { ++frames; }
  void onLinkDown(size_t g, std::string_view) override { downs.push_back(g); }

  std::vector<size_t> ups;
  std::vector<size_t> downs;
  int frames = 0;
};

TEST(GatewayLinksRequestId, NamesOneAttemptAndCarriesTheRecipientId) {
  uint64_t id = GatewayLinks::requestId(5, 42);
  EXPECT_EQ(GatewayLinks::recipientOf(id), 42u);
  EXPECT_EQ(id >> 63, 0u);  // fits a signed 64-bit column
  EXPECT_NE(GatewayLinks::requestId(6, 42), id);  // another attempt, another id
  EXPECT_NE(GatewayLinks::requestId(5, 43), id);
}

// Issue 16, defect 10: the Message-ID's key is salted per campaign instance.
TEST(GatewayLinksMessageKey, IsStablePerSaltAndDiffersBetweenSalts) {
  EXPECT_EQ(GatewayLinks::messageKey(1234, 42), GatewayLinks::messageKey(1234, 42));
  EXPECT_NE(GatewayLinks::messageKey(1235, 42), GatewayLinks::messageKey(1234, 42));
  EXPECT_NE(GatewayLinks::messageKey(1234, 43), GatewayLinks::messageKey(1234, 42));
  EXPECT_NE(GatewayLinks::messageKey(0, 0), 0u);
}

TEST(GatewayLinksDeadline, StaysBelowTheResultTimeout) {
  EXPECT_EQ(GatewayLinks::deadlineMs(1000), 500u);
  EXPECT_EQ(GatewayLinks::deadlineMs(600000), 540000u);
  EXPECT_GE(GatewayLinks::deadlineMs(1), 1u);
}

TEST(GatewayLinksSendFrame, CarriesTheRecipientItsMaterialAndThePresentMergeValues) {
  InitiatorConfig c = config(1);
  RecordingListener listener;
  GatewayLinks links(uv_default_loop(), c, listener);
  PendingRecipient p;
  p.id = 7;
  p.email = "ann@d.example";
  p.material = 1;
  p.values = {std::nullopt, std::string("Paris")};
  std::vector<proto::MergeField> fields;
  proto::SendFrame f = links.sendFrame(p, fields);
  EXPECT_EQ(GatewayLinks::recipientOf(f.request_id), 7u);
  EXPECT_EQ(f.message_key, GatewayLinks::messageKey(0, 7));
  EXPECT_EQ(f.deadline_ms, GatewayLinks::deadlineMs(toMillis(c.campaign.result_timeout)));
  // Another attempt: its own request id, the same message key (so the same Message-ID).
  proto::SendFrame again = links.sendFrame(p, fields);
  EXPECT_NE(again.request_id, f.request_id);
  EXPECT_EQ(again.message_key, f.message_key);
  EXPECT_EQ(f.sender, "bounce@sender.test");
  EXPECT_EQ(f.recipient, "ann@d.example");
  EXPECT_EQ(f.material_id, 2u);  // material ids start at 1
  std::vector<std::pair<std::string, std::string>> sent;
  f.fields.forEach([&](const proto::MergeField& m) { sent.emplace_back(m.name, m.value); });
  EXPECT_EQ(sent, (std::vector<std::pair<std::string, std::string>>{{"city", "Paris"}}));
}

TEST(GatewayLinksOrphans, AreHandedOverOnceTheirGracePeriodIsOver) {
  InitiatorConfig c = config(2);
  RecordingListener listener;
  GatewayLinks links(uv_default_loop(), c, listener);
  EXPECT_TRUE(links.takeDueOrphans(0, 5000).empty());
  links.orphan(0, {11, 12}, 1000);
  EXPECT_TRUE(links.takeDueOrphans(0, 999).empty());
  links.orphan(0, {13}, 1500);  // a later loss moves the due time for all of them
  EXPECT_TRUE(links.takeDueOrphans(0, 1000).empty());
  EXPECT_TRUE(links.takeDueOrphans(1, 5000).empty());  // the other gateway has none
  EXPECT_EQ(links.takeDueOrphans(0, 1500), (std::vector<uint64_t>{11, 12, 13}));
  EXPECT_TRUE(links.takeDueOrphans(0, 9000).empty());  // forgotten once taken
}

TEST(GatewayLinksMedia, MissingMediaArePerGatewayAndMaterial) {
  InitiatorConfig c = config(2);
  RecordingListener listener;
  GatewayLinks links(uv_default_loop(), c, listener);
  EXPECT_TRUE(links.hasMedia(0, 0));
  links.markMediaMissing(0, 1, "no such media");
  links.markMediaMissing(0, 1, "no such media");  // again: still missing
  EXPECT_FALSE(links.hasMedia(0, 1));
  EXPECT_TRUE(links.hasMedia(0, 0));
  EXPECT_TRUE(links.hasMedia(1, 1));
  EXPECT_EQ(links.names(), (std::vector<std::string>{"gw1", "gw2"}));
  EXPECT_FALSE(links.connected());
  EXPECT_EQ(links.bytesSent(), 0u);
}

TEST(GatewayLinksKeys, AMissingKeyFileFailsLoadKeys) {
  InitiatorConfig c = config(1);
  c.gateways[0].credentials.key_file = test::tempPath("no-such-key");
  RecordingListener listener;
  GatewayLinks links(uv_default_loop(), c, listener);
  EXPECT_FALSE(links.loadKeys());
}

// What the gateway end of the link received, copied out of the frames.
struct Material {
  std::vector<std::pair<MaterialPartKind, std::string>> parts;
  std::vector<std::pair<proto::MediaDisposition, std::string>> media;
  proto::MediaHash first_hash{};
};

class RecordingGateway : public proto::LinkAcceptor::Handler {
 public:
  void onLinkUp(proto::LinkConnection& link) override { link.grantCredit(5); }
  void onLinkFrame(proto::LinkConnection&, const proto::Frame& frame) override {
    if (const auto* m = std::get_if<proto::MaterialFrame>(&frame)) {
      Material& got = materials[m->material_id];
      for (const proto::MaterialPart& p : m->parts) got.parts.emplace_back(p.kind, std::string(p.content));
      for (const proto::MediaRef& r : m->media) got.media.emplace_back(r.disposition, std::string(r.name));
      if (!m->media.empty()) got.first_hash = m->media.front().hash;
    }
    if (const auto* s = std::get_if<proto::SendFrame>(&frame)) sends.emplace_back(s->request_id, s->material_id);
    if (const auto* a = std::get_if<proto::FeedbackAckFrame>(&frame)) acks.push_back(a->sequence);
  }
  void onLinkClosed(proto::LinkConnection&, std::string_view) override {}

  std::map<uint64_t, Material> materials;
  std::vector<std::pair<uint64_t, uint64_t>> sends;  // request id, material id
  std::vector<uint64_t> acks;                        // FEEDBACK_ACK sequences
};

class GatewayLinksUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_EQ(uv_timer_init(&loop_, &bound_), 0);
    proto::LinkAcceptorConfig ac;
    ac.listen = *SocketAddress::parse("127.0.0.1:0");
    ac.link.node_name = "gw1";  // the name config(1) gives its gateway
    acceptor_ = std::make_unique<proto::LinkAcceptor>(&loop_, ac, *security_, gateway_);
    ASSERT_EQ(acceptor_->start(), 0);
    key_file_ = test::tempPath("gateway-links.key");
    std::ofstream(key_file_) << kKey << "\n";
    ASSERT_EQ(chmod(key_file_.c_str(), 0600), 0);
    config_.gateways[0].address = acceptor_->boundAddress();
    config_.gateways[0].credentials.key_file = key_file_;
  }
  void TearDown() override {
    int stopped = 0;
    if (links_) links_->stop([&] { ++stopped; });
    acceptor_->stop(proto::GoodbyeReason::kShutdown, "test over", [&] { ++stopped; });
    EXPECT_TRUE(runUntil([&] { return stopped == (links_ ? 2 : 1); }));
    uv_close(reinterpret_cast<uv_handle_t*>(&bound_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Runs the loop until pred holds; false when 10 s pass first (the bound is a safety net, not
  // the synchronisation).
  template <typename Pred>
  bool runUntil(Pred pred) {
    bool timed_out = false;
    bound_.data = &timed_out;
    uv_timer_start(&bound_, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 10'000, 0);
    while (!pred() && !timed_out) uv_run(&loop_, UV_RUN_ONCE);
    uv_timer_stop(&bound_);
    return pred();
  }

  uv_loop_t loop_{};
  uv_timer_t bound_{};
  std::unique_ptr<proto::LinkSecurity> security_ = proto::LinkSecurity::fromKeyBytes(proto::Role::kGateway, kKey, "gw1");
  RecordingGateway gateway_;
  std::unique_ptr<proto::LinkAcceptor> acceptor_;
  std::string key_file_;
  InitiatorConfig config_ = config(1);
  RecordingListener listener_;
  std::unique_ptr<GatewayLinks> links_;
};

TEST_F(GatewayLinksUpTest, ALinkComingUpGetsEveryMaterialAndForgetsMissingMedia) {
  links_ = std::make_unique<GatewayLinks>(&loop_, config_, listener_);
  ASSERT_TRUE(links_->loadKeys());
  links_->markMediaMissing(0, 0, "gone");
  links_->connect(77);
  ASSERT_TRUE(runUntil([&] { return gateway_.materials.size() == 2 && links_->credit(0) == 5; }));
  EXPECT_EQ(listener_.ups, (std::vector<size_t>{0}));
  EXPECT_EQ(links_->upCount(0), 1u);  // feedback acks belong to the link their events came on
  EXPECT_TRUE(links_->connected());
  EXPECT_TRUE(links_->isUp(0));
  EXPECT_TRUE(links_->hasMedia(0, 0));  // a gateway that comes back may have a new media cache
  EXPECT_GT(links_->bytesSent(), 0u);
  EXPECT_GT(links_->bytesReceived(), 0u);

  using Parts = std::vector<std::pair<MaterialPartKind, std::string>>;
  const Material& full = gateway_.materials[1];
  EXPECT_EQ(full.parts, (Parts{{MaterialPartKind::kFrom, "News <news@sender.test>"},
                               {MaterialPartKind::kReplyTo, "help@sender.test"},
                               {MaterialPartKind::kSubject, "Hello {{name}}"},
                               {MaterialPartKind::kText, "Hi {{name}} from {{city}}"},
                               {MaterialPartKind::kHtml, "<p>Hi {{name}}</p>"},
                               {MaterialPartKind::kListUnsubscribe, "<mailto:unsubscribe@sender.test>"},
                               {MaterialPartKind::kListId, "News <news.sender.test>"},
                               {MaterialPartKind::kFeedbackId, "spring:sender1"},
                               {MaterialPartKind::kFields, "name,city"}}));
  using Media = std::vector<std::pair<proto::MediaDisposition, std::string>>;
  EXPECT_EQ(full.media, (Media{{proto::MediaDisposition::kInline, "logo"},
                               {proto::MediaDisposition::kAttachment, "terms.pdf"}}));
  EXPECT_EQ(full.first_hash, (proto::MediaHash{1, 2, 3}));
  // Empty parts are left out.
  EXPECT_EQ(gateway_.materials[2].parts,
            (Parts{{MaterialPartKind::kFrom, "news@sender.test"}, {MaterialPartKind::kFields, "name,city"}}));
  EXPECT_TRUE(gateway_.materials[2].media.empty());

  PendingRecipient p;
  p.id = 9;
  p.email = "bob@d.example";
  p.material = 0;
  p.values = {std::string("Bob"), std::nullopt};
  std::vector<proto::MergeField> fields;
  ASSERT_TRUE(links_->send(0, links_->sendFrame(p, fields)));
  ASSERT_TRUE(runUntil([&] { return !gateway_.sends.empty(); }));
  EXPECT_EQ(GatewayLinks::recipientOf(gateway_.sends.front().first), 9u);
  EXPECT_EQ(gateway_.sends.front().second, uint64_t{1});
}

// The unsubscribe token names no attempt: minted at a recipient's first SEND and kept in it for
// the later ones; the VERP sender names the attempt, so it is minted for each.
TEST_F(GatewayLinksUpTest, TheUnsubscribeTokenIsMintedOncePerRecipientTheVerpSenderPerAttempt) {
  config_.feedback.key_file = test::tempPath("gateway-links-feedback.key");
  std::ofstream(config_.feedback.key_file) << kKey << kKey << "\n";  // at least 32 bytes
  ASSERT_EQ(chmod(config_.feedback.key_file.c_str(), 0600), 0);
  config_.feedback.bounce_domain = "bounces.test";
  config_.feedback.unsubscribe_url = "https://u.test/u";
  config_.campaign.verp = true;
  GatewayLinks links(&loop_, config_, listener_);
  ASSERT_TRUE(links.loadKeys());
  PendingRecipient p;
  p.id = 9;
  p.email = "bob@d.example";
  p.material = 1;
  p.values = {std::nullopt, std::nullopt};
  std::vector<proto::MergeField> fields;
  auto fieldsOf = [](const proto::SendFrame& f) {
    std::map<std::string, std::string> out;
    f.fields.forEach([&](const proto::MergeField& m) { out[std::string(m.name)] = m.value; });
    return out;
  };
  proto::SendFrame first = links.sendFrame(p, fields);
  std::string first_sender(first.sender);
  std::map<std::string, std::string> first_fields = fieldsOf(first);
  ASSERT_EQ(p.unsubscribe_token.size(), 39u);
  EXPECT_EQ(first_fields["unsubscribe_token"], p.unsubscribe_token);
  EXPECT_EQ(first_fields["unsubscribe_url"], "https://u.test/u/" + p.unsubscribe_token);
  // The kept token is what a later attempt carries, not a new one.
  p.unsubscribe_token = "kept";
  p.attempts = 1;
  proto::SendFrame second = links.sendFrame(p, fields);
  std::map<std::string, std::string> second_fields = fieldsOf(second);
  EXPECT_EQ(second_fields["unsubscribe_token"], "kept");
  EXPECT_EQ(second_fields["unsubscribe_url"], "https://u.test/u/kept");
  EXPECT_NE(std::string(second.sender), first_sender);  // another attempt's bounce token
  EXPECT_EQ(std::string(second.sender).substr(0, 7), "bounce+");
}

// The gateway takes FEEDBACK_ACK(x) as "x and everything before it on this link": an event whose
// write failed (SQLITE_BUSY) holds back the acks of those after it, written or not, until it is
// written again after its backoff; then one ack covers them all.
TEST_F(GatewayLinksUpTest, AFailedFeedbackWriteHoldsBackLaterAcksUntilItsRetryCommits) {
  std::string db = test::makeDatabase(3);
  auto ledger = CampaignLedger::open(db, "c");
  ASSERT_TRUE(ledger) << ledger.error();
  sqlite3_busy_timeout((*ledger)->handle(), 0);
  test::WriteLockHolder lock(db);
  links_ = std::make_unique<GatewayLinks>(&loop_, config_, listener_);
  ASSERT_TRUE(links_->loadKeys());
  links_->connect(77, (*ledger)->number());
  ASSERT_TRUE(runUntil([&] { return links_->isUp(0); }));
  MetricsRegistry metrics;
  BackgroundQueue background(&loop_);
  FeedbackRates rates(config_.feedback, links_->names(), metrics);
  CampaignFeedback intake(background, *links_, config_.feedback, rates);
  intake.open((*ledger)->handle(), (*ledger)->number());
  auto idle = [&] {
    bool done = false;
    background.whenIdle([&] { done = true; });
    return runUntil([&] { return done; });
  };
  proto::FeedbackFrame f;
  f.kind = proto::FeedbackKind::kUnsubscribe;
  f.campaign = (*ledger)->number();
  f.source = "one-click";
  ASSERT_TRUE(lock.hold());
  f.sequence = 11;
  f.recipient = 1;
  intake.onFrame(0, f);
  ASSERT_TRUE(idle());
  ASSERT_TRUE(lock.release());
  for (uint64_t seq : {12, 13}) {
    f.sequence = seq;
    f.recipient = seq - 10;
    intake.onFrame(0, f);
  }
  ASSERT_TRUE(idle());
  EXPECT_EQ(intake.pending(), 1u);
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "2");
  intake.tick(1);
  intake.tick(1 + CampaignFeedback::kFirstRetryMs);
  ASSERT_TRUE(idle());
  EXPECT_EQ(intake.pending(), 0u);
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "3");
  ASSERT_TRUE(runUntil([&] { return !gateway_.acks.empty(); }));
  EXPECT_EQ(gateway_.acks, std::vector<uint64_t>{13});
}

}  // namespace
}  // namespace lbmail
