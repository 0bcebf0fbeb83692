// Tests for the suppression list (src/initiator/suppression_store.cc, suppression_import.cc),
// the ledger's view of it (suppressed recipients flagged at fetch and claim, the campaign's
// number) and the apply path of FEEDBACK events during a run (campaign_feedback.cc).
#include "suppression_store.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <sstream>

#include "campaign_ledger.h"
#include "campaign_feedback.h"
#include "ledger_test_support.h"
#include "lbmail/core/metrics_registry.h"
#include "suppression_import.h"

namespace lbmail {
namespace {

constexpr double kDay = 86400;

// Runs sql on its own connection.
void exec(const std::string& db, const char* sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(h, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_close(h);
}

// The store of a database whose campaigns 1 and 2 are "c" and "d".
std::unique_ptr<SuppressionStore> openStore(const std::string& db) {
  auto s = SuppressionStore::open(db);
  EXPECT_TRUE(s) << s.error();
  exec(db, "INSERT INTO campaigns (rowid, name, salt) VALUES (1, 'c', 1), (2, 'd', 2)");
  return s ? std::move(*s) : nullptr;
}

FeedbackRecord event(uint64_t sequence, proto::FeedbackKind kind, uint64_t recipient, double at,
                     uint8_t attempt = 1) {
  FeedbackRecord e;
  e.gateway = "gw1";
  e.sequence = sequence;
  e.kind = kind;
  e.campaign_number = 1;
  e.recipient_id = recipient;
  e.attempt = attempt;
  e.status = kind == proto::FeedbackKind::kHardBounce ? "5.1.1" : "";
  e.source = "dsn";
  e.detail = "550 5.1.1 no such user";
  e.at = at;
  return e;
}

TEST(SuppressionStore, AddRemoveListByLowerCasedAddressFirstReasonStays) {
  std::string db = test::makeDatabase(0);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->add({"Some.One@Example.COM", "manual", "cli", "", "", 1}));
  EXPECT_TRUE(store->isSuppressed("some.one@example.com"));
  EXPECT_TRUE(store->isSuppressed("SOME.ONE@example.com"));
  EXPECT_FALSE(store->add({"some.one@example.com", "complaint", "x", "", "", 2}));
  EXPECT_EQ(store->lastError(), "");
  EXPECT_TRUE(store->add({"b@example.com", "unsubscribe", "one-click", "c", "", 3}));
  std::vector<std::string> all, unsubscribed;
  ASSERT_TRUE(store->list(std::nullopt, [&](const Suppression& s) { all.push_back(s.address + "/" + s.reason); }));
  ASSERT_TRUE(store->list("unsubscribe", [&](const Suppression& s) { unsubscribed.push_back(s.address); }));
  EXPECT_EQ(all, (std::vector<std::string>{"b@example.com/unsubscribe", "some.one@example.com/manual"}));
  EXPECT_EQ(unsubscribed, std::vector<std::string>{"b@example.com"});
  EXPECT_TRUE(store->remove("SOME.ONE@example.com"));
  EXPECT_FALSE(store->remove("some.one@example.com"));
  EXPECT_FALSE(store->isSuppressed("some.one@example.com"));
}

TEST(SuppressionStore, TheSameEventTwiceChangesNothing) {
  std::string db = test::makeDatabase(3);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  FeedbackRecord e = event(7, proto::FeedbackKind::kHardBounce, 2, 1000);
  auto first = store->applyFeedback(e, {});
  ASSERT_TRUE(first) << store->lastError();
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(first->suppressed);
  EXPECT_EQ(first->address, "user2@d2.test");
  EXPECT_EQ(first->domain, "d2.test");
  std::string created = test::query(db, "SELECT created || reason || source || detail FROM suppressions");
  EXPECT_EQ(created, "1000.0hard_bouncedsn550 5.1.1 no such user");
  auto again = store->applyFeedback(e, {});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->duplicate);
  EXPECT_TRUE(again->suppressed);
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM feedback_events"), "1");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "1");
  // Removed by hand, a replayed event does not bring it back; a new one does.
  EXPECT_TRUE(store->remove("user2@d2.test"));
  ASSERT_TRUE(store->applyFeedback(e, {}));
  EXPECT_FALSE(store->isSuppressed("user2@d2.test"));
  ASSERT_TRUE(store->applyFeedback(event(8, proto::FeedbackKind::kComplaint, 2, 1001), {}));
  EXPECT_EQ(test::query(db, "SELECT reason FROM suppressions WHERE address = 'user2@d2.test'"), "complaint");
}

TEST(SuppressionStore, SoftBouncesSuppressAtTheLimitWithinTheWindow) {
  std::string db = test::makeDatabase(2);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  FeedbackRule rule{3, 7 * kDay};
  double t = 100 * kDay;
  // One long before the window, two inside: not yet.
  for (auto [seq, at] : {std::pair{1, t - 30 * kDay}, std::pair{2, t - 6 * kDay}, std::pair{3, t}}) {
    auto r = store->applyFeedback(
        event(static_cast<uint64_t>(seq), proto::FeedbackKind::kSoftBounce, 1, at, static_cast<uint8_t>(seq)), rule);
    ASSERT_TRUE(r) << store->lastError();
    EXPECT_FALSE(r->suppressed) << seq;
  }
  // The same third event again counts once.
  ASSERT_TRUE(store->applyFeedback(event(3, proto::FeedbackKind::kSoftBounce, 1, t, 3), rule));
  EXPECT_FALSE(store->isSuppressed("user1@d1.test"));
  auto third = store->applyFeedback(event(4, proto::FeedbackKind::kSoftBounce, 1, t + 1, 4), rule);
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->suppressed);
  EXPECT_EQ(test::query(db, "SELECT reason FROM suppressions"), "soft_bounce");
  // Another recipient's soft bounces are its own.
  EXPECT_FALSE(store->isSuppressed("user2@d2.test"));
}

// Several reports about one message (one campaign's attempt) are one soft bounce, however many
// sequences they have; another attempt or another campaign's is another.
TEST(SuppressionStore, SoftBouncesCountOncePerCampaignAndAttempt) {
  std::string db = test::makeDatabase(1);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  FeedbackRule rule{3, 7 * kDay};
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    auto r = store->applyFeedback(event(seq, proto::FeedbackKind::kSoftBounce, 1, 100.0 + seq, 1), rule);
    ASSERT_TRUE(r) << store->lastError();
    EXPECT_FALSE(r->suppressed) << seq;
  }
  ASSERT_TRUE(store->applyFeedback(event(5, proto::FeedbackKind::kSoftBounce, 1, 110, 2), rule));
  EXPECT_FALSE(store->isSuppressed("user1@d1.test"));
  FeedbackRecord other = event(6, proto::FeedbackKind::kSoftBounce, 1, 111, 1);
  other.campaign_number = 2;
  auto r = store->applyFeedback(other, rule);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->suppressed);
  EXPECT_EQ(test::query(db, "SELECT group_concat(attempt) FROM feedback_events WHERE sequence >= 4"), "1,2,1");
}

// A campaign number this database lacks is another recipient database's (the same key): its
// recipient id is not ours, so nothing is applied or recorded.
TEST(SuppressionStore, AnEventOfACampaignNotInThisDatabaseIsForeignAndChangesNothing) {
  std::string db = test::makeDatabase(2);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  FeedbackRecord e = event(1, proto::FeedbackKind::kHardBounce, 2, 5);
  e.campaign_number = 9;
  auto r = store->applyFeedback(e, {});
  ASSERT_TRUE(r) << store->lastError();
  EXPECT_TRUE(r->foreign);
  EXPECT_FALSE(r->suppressed);
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "0");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM feedback_events"), "0");
  auto ours = store->applyFeedback(event(2, proto::FeedbackKind::kHardBounce, 2, 6), {});
  ASSERT_TRUE(ours);
  EXPECT_FALSE(ours->foreign);
  EXPECT_TRUE(ours->suppressed);
}

// feedback_events as this branch first made it (no attempt column) gets the column.
TEST(SuppressionStore, FeedbackEventsWithoutTheAttemptColumnGetIt) {
  std::string db = test::makeDatabase(1);
  exec(db,
       "CREATE TABLE feedback_events (gateway TEXT NOT NULL, sequence INTEGER NOT NULL, kind TEXT NOT NULL, "
       "campaign_number INTEGER NOT NULL, recipient_id INTEGER NOT NULL, status TEXT NOT NULL DEFAULT '', source "
       "TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', at REAL NOT NULL, UNIQUE (gateway, sequence, "
       "kind, campaign_number, recipient_id));"
       "INSERT INTO feedback_events (gateway, sequence, kind, campaign_number, recipient_id, at) VALUES ('gw1', 1, "
       "'soft_bounce', 1, 1, 50)");
  auto store = openStore(db);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->applyFeedback(event(2, proto::FeedbackKind::kSoftBounce, 1, 60, 3), {}));
  EXPECT_EQ(test::query(db, "SELECT group_concat(attempt) FROM feedback_events"), "0,3");
  // Opening it again leaves it as it is.
  auto again = SuppressionStore::open(db);
  EXPECT_TRUE(again) << again.error();
}

TEST(SuppressionStore, AnUnknownRecipientIsRecordedAndSuppressesNobody) {
  std::string db = test::makeDatabase(1);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  auto r = store->applyFeedback(event(1, proto::FeedbackKind::kUnsubscribe, 999, 5), {});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->suppressed);
  EXPECT_EQ(r->address, "");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM suppressions"), "0");
  EXPECT_EQ(test::query(db, "SELECT count(*) FROM feedback_events"), "1");
}

TEST(SuppressionImport, ReportsBadLinesByNumberAndAddsTheRest) {
  std::string db = test::makeDatabase(0);
  auto store = openStore(db);
  ASSERT_TRUE(store);
  std::string text = "Email,name\n# a comment\nA@Example.com,Ann\n\"b@example.com\",\"B, b\"\nno address here\n\n"
                     "  c@example.com  \n" + std::string("\0\xff@x", 4) + "\nA@example.com\n" +
                     std::string(5000, 'x') + "@example.com\n";
  std::istringstream in(text);
  std::vector<uint64_t> bad;
  auto report = importSuppressions(in, *store, {"", "unsubscribe", "import", "", "", 9},
                                   [&](uint64_t line, std::string_view) { bad.push_back(line); });
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->added, 3u);
  EXPECT_EQ(report->already, 1u);
  EXPECT_EQ(report->rejected, 3u);
  EXPECT_EQ(bad, (std::vector<uint64_t>{5, 8, 10}));
  for (const char* a : {"a@example.com", "b@example.com", "c@example.com"}) EXPECT_TRUE(store->isSuppressed(a)) << a;
}

TEST(SuppressionLedger, FetchAndClaimFlagSuppressedRecipientsAndTheNumberIsStable) {
  std::string db = test::makeDatabase(4);
  uint32_t number = 0;
  {
    auto other = CampaignLedger::open(db, "other");
    ASSERT_TRUE(other) << other.error();
    auto ledger = CampaignLedger::open(db, "c");
    ASSERT_TRUE(ledger) << ledger.error();
    number = (*ledger)->number();
    EXPECT_NE(number, (*other)->number());
    SuppressionStore store((*ledger)->handle());
    ASSERT_TRUE(store.add({"USER3@d0.test", "manual", "", "", "", 1}));
    std::vector<StoredRecipient> page;
    ASSERT_TRUE((*ledger)->fetchFresh(0, 10, page));
    ASSERT_EQ(page.size(), 4u);
    for (const StoredRecipient& r : page) EXPECT_EQ(r.suppressed, r.id == 3) << r.id;
    StateChange deferred;
    deferred.recipient_id = 1;
    deferred.state = RecipientState::kDeferred;
    deferred.next_at = 0;
    ASSERT_TRUE((*ledger)->write({deferred}));
    ASSERT_TRUE(store.add({"user1@d1.test", "complaint", "", "", "", 1}));
    std::vector<StoredRecipient> due;
    ASSERT_TRUE((*ledger)->claimDue(10, 10, due));
    ASSERT_EQ(due.size(), 1u);
    EXPECT_TRUE(due[0].suppressed);
    StateChange suppressed;
    suppressed.recipient_id = 3;
    suppressed.state = RecipientState::kSuppressed;
    ASSERT_TRUE((*ledger)->write({suppressed}));
    EXPECT_EQ((*ledger)->counts().suppressed, 1u);
  }
  auto again = CampaignLedger::open(db, "c");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->number(), number);
  uint64_t finals = 0;
  ASSERT_TRUE(CampaignLedger::readFinalOutcomes(db, "c", [&](const FinalOutcome& o) {
    EXPECT_EQ(o.state, RecipientState::kSuppressed);
    ++finals;
  }));
  EXPECT_EQ(finals, 1u);
}

TEST(SuppressionLedger, AnOldDatabaseGetsTheTables) {
  std::string path = test::tempPath("suppression-old.db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  {
    // The schema before issue 21 (and before request ids): no suppressions, no feedback_events.
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h,
                           "CREATE TABLE recipients (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, domain TEXT "
                           "NOT NULL, attributes TEXT NOT NULL DEFAULT '{}', imported_at REAL);"
                           "CREATE TABLE deliveries (campaign TEXT NOT NULL, recipient_id INTEGER NOT NULL, state "
                           "TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, material TEXT, gateway TEXT, "
                           "smtp_code INTEGER, enhanced_code TEXT, reason TEXT, delivery_ms REAL, first_at REAL, "
                           "next_at REAL, updated_at REAL, PRIMARY KEY (campaign, recipient_id));"
                           "INSERT INTO recipients (email, domain) VALUES ('Old@old.test', 'old.test');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(h);
    sqlite3_close(h);
  }
  auto ledger = CampaignLedger::open(path, "c");
  ASSERT_TRUE(ledger) << ledger.error();
  SuppressionStore store((*ledger)->handle());
  ASSERT_TRUE(store.add({"old@old.test", "manual", "", "", "", 1}));
  std::vector<StoredRecipient> page;
  ASSERT_TRUE((*ledger)->fetchFresh(0, 10, page));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_TRUE(page[0].suppressed);  // lower(email): the old row kept its case
}

// A CampaignFeedback on the ledger's connection and a loop of its own, with one gateway whose
// link is never up (so no ack goes out).
struct Intake {
  struct Loop {
    Loop() { uv_loop_init(&loop); }
    ~Loop() { EXPECT_EQ(uv_loop_close(&loop), 0); }
    uv_loop_t loop;
  };
  struct : GatewayLinks::Listener {
    void onLinkUp(size_t) override {}
    void onLinkFrame(size_t, const proto::Frame&) override {}
    void onLinkDown(size_t, std::string_view) override {}
  } listener;

  Intake(CampaignLedger& ledger, InitiatorConfig c) : config(std::move(c)) {
    intake.open(ledger.handle(), ledger.number());
  }
  void run() { uv_run(&loop.loop, UV_RUN_DEFAULT); }

  Loop loop;
  InitiatorConfig config;
  MetricsRegistry metrics;
  GatewayLinks links{&loop.loop, config, listener};
  BackgroundQueue background{&loop.loop};
  FeedbackRates rates{config.feedback, links.names(), metrics};
  CampaignFeedback intake{background, links, config.feedback, rates};
};

InitiatorConfig oneGateway() {
  InitiatorConfig config;
  config.gateways.push_back(GatewayEndpoint{"gw1", SocketAddress(), {}});
  return config;
}

proto::FeedbackFrame complaint(uint32_t campaign, uint64_t recipient) {
  proto::FeedbackFrame f;
  f.sequence = 1;
  f.kind = proto::FeedbackKind::kComplaint;
  f.campaign = campaign;
  f.recipient = recipient;
  f.at_ms = 1000;
  f.source = "arf";
  return f;
}

// The apply path of a FEEDBACK frame during a run: the recipient is suppressed for the run at
// once, the database after the background write; a soft bounce only at the limit.
TEST(CampaignFeedback, SuppressesForTheRunAtOnceAndInTheDatabaseAfterTheWrite) {
  std::string db = test::makeDatabase(3);
  auto ledger = CampaignLedger::open(db, "c");
  ASSERT_TRUE(ledger) << ledger.error();
  InitiatorConfig config = oneGateway();
  config.feedback.soft_bounce_limit = 2;
  {
    Intake t(**ledger, config);
    CampaignFeedback& intake = t.intake;
    proto::FeedbackFrame f = complaint((*ledger)->number(), 2);
    intake.onFrame(0, f);
    EXPECT_TRUE(intake.suppressed(2));
    f.sequence = 2;
    f.kind = proto::FeedbackKind::kSoftBounce;
    f.recipient = 1;
    f.attempt = 1;
    intake.onFrame(0, f);
    EXPECT_FALSE(intake.suppressed(1));
    intake.onFrame(0, f);  // sent again: counts once
    EXPECT_EQ(intake.pending(), 3u);
    t.run();
    EXPECT_EQ(intake.pending(), 0u);
    EXPECT_FALSE(intake.suppressed(1));
    EXPECT_EQ(t.rates.events(proto::FeedbackKind::kComplaint), 1u);
    EXPECT_EQ(t.rates.events(proto::FeedbackKind::kSoftBounce), 1u);
    EXPECT_EQ(t.rates.campaign().complaints, 1u);
    f.sequence = 3;
    f.attempt = 2;
    intake.onFrame(0, f);
    t.run();
    EXPECT_TRUE(intake.suppressed(1));
  }
  EXPECT_EQ(test::query(db, "SELECT group_concat(address || ':' || reason || ':' || campaign, ' ') FROM "
                            "(SELECT * FROM suppressions ORDER BY address)"),
            "user1@d1.test:soft_bounce:c user2@d2.test:complaint:c");
}

// A write that fails (SQLITE_BUSY: `lbmail suppress import` holds the database) is written
// again after a backoff of 1 s, doubling, on the campaign's tick, until it commits.
TEST(CampaignFeedback, AFailedWriteIsWrittenAgainAfterABackoffThatDoubles) {
  std::string db = test::makeDatabase(3);
  auto ledger = CampaignLedger::open(db, "c");
  ASSERT_TRUE(ledger) << ledger.error();
  sqlite3_busy_timeout((*ledger)->handle(), 0);
  test::WriteLockHolder lock(db);
  auto complaints = [&] { return test::query(db, "SELECT count(*) FROM suppressions"); };
  Intake t(**ledger, oneGateway());
  CampaignFeedback& intake = t.intake;
  ASSERT_TRUE(lock.hold());
  intake.onFrame(0, complaint((*ledger)->number(), 2));
  t.run();
  EXPECT_EQ(intake.pending(), 1u);
  EXPECT_TRUE(intake.suppressed(2));  // for the run at once all the same
  intake.tick(10);                    // the backoff starts: written again at 1010
  intake.tick(1009);
  t.run();
  intake.tick(1010);  // still held: fails again, next at 1010 + 2000
  t.run();
  EXPECT_EQ(intake.pending(), 1u);
  ASSERT_TRUE(lock.release());
  intake.tick(3009);
  t.run();
  EXPECT_EQ(complaints(), "0");
  intake.tick(3010);
  t.run();
  EXPECT_EQ(intake.pending(), 0u);
  EXPECT_EQ(complaints(), "1");
  EXPECT_EQ(t.rates.events(proto::FeedbackKind::kComplaint), 1u);
}

}  // namespace
}  // namespace lbmail
