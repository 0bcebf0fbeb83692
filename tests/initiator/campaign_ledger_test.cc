// Tests for src/initiator/campaign_ledger.cc on a real SQLite file: fresh recipients page by
// id, deferrals wait for next_at and are claimed once, a restart turns claimed rows back into
// due deferrals, a later state replaces an earlier one, and a reader after the run sees each
// final outcome once.
#include "campaign_ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "gateway_links.h"
#include "ledger_test_support.h"

namespace lbmail {
namespace {

using test::makeDatabase;
using test::query;

constexpr double kNow = 1'700'000'000.0;

std::unique_ptr<CampaignLedger> openLedger(const std::string& path, const std::string& campaign = "spring") {
  auto ledger = CampaignLedger::open(path, campaign);
  EXPECT_TRUE(ledger) << ledger.error();
  return ledger ? std::move(*ledger) : nullptr;
}

std::string stateOf(const std::string& db, uint64_t id, const std::string& campaign = "spring") {
  return query(db, "SELECT coalesce((SELECT state FROM deliveries WHERE campaign = '" + campaign +
                       "' AND recipient_id = " + std::to_string(id) + "), '<no row>')");
}

StateChange change(uint64_t id, std::string state, double next_at = 0) {
  StateChange c;
  c.recipient_id = id;
  c.state = parseRecipientState(state).value();
  c.attempts = 1;
  c.material = "standard";
  c.gateway = "gw1";
  c.smtp_code = c.state == RecipientState::kDelivered ? 250 : 451;
  c.enhanced_code = c.state == RecipientState::kDelivered ? "2.0.0" : "4.7.1";
  c.reason = c.state == RecipientState::kDelivered ? "" : "try later";
  c.delivery_ms = 42;
  c.first_at = kNow - 300;
  c.next_at = next_at;
  c.at = kNow - 60;
  return c;
}

std::vector<uint64_t> ids(const std::vector<StoredRecipient>& rs) {
  std::vector<uint64_t> out;
  for (const StoredRecipient& r : rs) out.push_back(r.id);
  return out;
}

TEST(CampaignLedger, FetchFreshPagesByIdSkippingThisCampaignsRows) {
  std::string db = makeDatabase(6);
  {
    // Recipient 3 has a row in another campaign only: still fresh for this one.
    auto other = openLedger(db, "autumn");
    ASSERT_TRUE(other);
    ASSERT_TRUE(other->write({change(3, "delivered")})) << other->lastError();
  }
  auto ledger = openLedger(db);
  ASSERT_TRUE(ledger);
  ASSERT_TRUE(ledger->write({change(2, "delivered"), change(5, "deferred", kNow + 60)})) << ledger->lastError();

  std::vector<StoredRecipient> page;
  ASSERT_TRUE(ledger->fetchFresh(0, 2, page)) << ledger->lastError();
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{1, 3}));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].email, "user1@d1.test");
  EXPECT_EQ(page[0].domain, "d1.test");
  EXPECT_EQ(page[0].attributes, "{\"n\":\"1\"}");
  EXPECT_EQ(page[0].attempts, 0u);
  EXPECT_EQ(page[0].first_at, 0);
  // The next page starts after the last id and appends.
  ASSERT_TRUE(ledger->fetchFresh(page.back().id, 2, page)) << ledger->lastError();
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{1, 3, 4, 6}));
  std::vector<StoredRecipient> rest;
  ASSERT_TRUE(ledger->fetchFresh(6, 2, rest)) << ledger->lastError();
  EXPECT_TRUE(rest.empty());

  // For the other campaign, only recipient 3 is taken.
  ledger.reset();
  auto other = openLedger(db, "autumn");
  std::vector<StoredRecipient> all;
  ASSERT_TRUE(other->fetchFresh(0, 100, all)) << other->lastError();
  EXPECT_EQ(ids(all), (std::vector<uint64_t>{1, 2, 4, 5, 6}));
}

TEST(CampaignLedger, ClaimDueTakesOnlyDueDeferralsOnce) {
  std::string db = makeDatabase(4);
  auto ledger = openLedger(db);
  ASSERT_TRUE(ledger);
  EXPECT_EQ(ledger->nextDue(), std::nullopt);
  StateChange due = change(2, "deferred", kNow - 10);
  due.attempts = 3;
  due.first_at = kNow - 900;
  due.gateway = "gw2";
  ASSERT_TRUE(ledger->write({change(1, "delivered"), due, change(3, "deferred", kNow + 60)})) << ledger->lastError();
  ASSERT_EQ(ledger->nextDue(), kNow - 10);

  std::vector<StoredRecipient> claimed;
  ASSERT_TRUE(ledger->claimDue(kNow, 10, claimed)) << ledger->lastError();
  ASSERT_EQ(ids(claimed), (std::vector<uint64_t>{2}));
  EXPECT_EQ(claimed[0].email, "user2@d2.test");
  EXPECT_EQ(claimed[0].domain, "d2.test");
  EXPECT_EQ(claimed[0].attributes, "{\"n\":\"2\"}");
  EXPECT_EQ(claimed[0].attempts, 3u);
  EXPECT_EQ(claimed[0].first_at, kNow - 900);
  EXPECT_EQ(claimed[0].last_gateway, "gw2");
  EXPECT_EQ(stateOf(db, 2), "sending");
  EXPECT_EQ(stateOf(db, 3), "deferred");

  // Claimed once: not again, and no longer the next due.
  std::vector<StoredRecipient> again;
  ASSERT_TRUE(ledger->claimDue(kNow, 10, again)) << ledger->lastError();
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(ledger->nextDue(), kNow + 60);
  ASSERT_TRUE(ledger->claimDue(kNow + 59.5, 10, again)) << ledger->lastError();
  EXPECT_TRUE(again.empty());
  ASSERT_TRUE(ledger->claimDue(kNow + 60, 10, again)) << ledger->lastError();
  EXPECT_EQ(ids(again), (std::vector<uint64_t>{3}));
  EXPECT_EQ(ledger->nextDue(), std::nullopt);

  LedgerCounts n = ledger->counts();
  EXPECT_EQ(n.recipients, 4u);
  EXPECT_EQ(n.delivered, 1u);
  EXPECT_EQ(n.deferred, 2u);  // both being retried
  EXPECT_EQ(n.bounced, 0u);
  EXPECT_EQ(n.failed, 0u);
}

TEST(CampaignLedger, ClaimDueHonoursTheLimitEarliestFirst) {
  std::string db = makeDatabase(5);
  auto ledger = openLedger(db);
  ASSERT_TRUE(ledger);
  ASSERT_TRUE(ledger->write({change(1, "deferred", kNow - 1), change(2, "deferred", kNow - 30),
                             change(3, "deferred", kNow - 20), change(4, "deferred", kNow - 10)}))
      << ledger->lastError();
  std::vector<StoredRecipient> claimed;
  ASSERT_TRUE(ledger->claimDue(kNow, 2, claimed)) << ledger->lastError();
  EXPECT_EQ(ids(claimed), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(ledger->nextDue(), kNow - 10);
  ASSERT_TRUE(ledger->claimDue(kNow, 10, claimed)) << ledger->lastError();
  EXPECT_EQ(ids(claimed), (std::vector<uint64_t>{2, 3, 4, 1}));
}

TEST(CampaignLedger, ReopenTurnsClaimedRowsBackIntoDueDeferrals) {
  std::string db = makeDatabase(4);
  {
    auto ledger = openLedger(db);
    ASSERT_TRUE(ledger);
    StateChange d = change(2, "deferred", kNow - 10);
    d.attempts = 2;
    ASSERT_TRUE(ledger->write({change(1, "delivered"), d, change(3, "deferred", kNow + 3600)})) << ledger->lastError();
    std::vector<StoredRecipient> claimed;
    ASSERT_TRUE(ledger->claimDue(kNow, 10, claimed)) << ledger->lastError();
    ASSERT_EQ(ids(claimed), (std::vector<uint64_t>{2}));
    // Another campaign's claimed row is that campaign's business.
    auto other = openLedger(db, "autumn");
    ASSERT_TRUE(other->write({change(2, "deferred", kNow - 10)})) << other->lastError();
    ASSERT_TRUE(other->claimDue(kNow, 10, claimed)) << other->lastError();
    EXPECT_EQ(stateOf(db, 2, "autumn"), "sending");
    // The process dies here, with recipient 2 claimed but no outcome written.
  }
  auto ledger = openLedger(db);
  ASSERT_TRUE(ledger);
  EXPECT_EQ(stateOf(db, 2), "deferred");
  EXPECT_EQ(stateOf(db, 2, "autumn"), "sending");
  EXPECT_EQ(ledger->nextDue(), 0);  // due at once
  LedgerCounts n = ledger->counts();
  EXPECT_EQ(n.recipients, 4u);
  EXPECT_EQ(n.delivered, 1u);
  EXPECT_EQ(n.deferred, 2u);
  std::vector<StoredRecipient> claimed;
  ASSERT_TRUE(ledger->claimDue(kNow - 3600, 10, claimed)) << ledger->lastError();
  ASSERT_EQ(ids(claimed), (std::vector<uint64_t>{2}));
  EXPECT_EQ(claimed[0].attempts, 2u);
  // Neither fresh: recipient 4 alone has not been tried.
  std::vector<StoredRecipient> fresh;
  ASSERT_TRUE(ledger->fetchFresh(0, 10, fresh)) << ledger->lastError();
  EXPECT_EQ(ids(fresh), (std::vector<uint64_t>{4}));
}

TEST(CampaignLedger, WriteReplacesTheEarlierState) {
  std::string db = makeDatabase(2);
  auto ledger = openLedger(db);
  ASSERT_TRUE(ledger);
  ASSERT_TRUE(ledger->write({change(1, "deferred", kNow + 60)})) << ledger->lastError();
  EXPECT_EQ(ledger->counts().deferred, 1u);
  EXPECT_EQ(query(db, "SELECT smtp_code || ' ' || enhanced_code || ' ' || reason FROM deliveries"),
            "451 4.7.1 try later");

  StateChange done = change(1, "delivered");
  done.attempts = 2;
  done.gateway = "gw2";
  done.delivery_ms = 12.5;
  done.at = kNow;
  ASSERT_TRUE(ledger->write({done})) << ledger->lastError();
  EXPECT_EQ(query(db, "SELECT count(*) FROM deliveries"), "1");
  EXPECT_EQ(stateOf(db, 1), "delivered");
  EXPECT_EQ(query(db,
                  "SELECT attempts || ' ' || gateway || ' ' || smtp_code || ' ' || enhanced_code || ' ' || "
                  "delivery_ms FROM deliveries"),
            "2 gw2 250 2.0.0 12.5");
  EXPECT_EQ(query(db, "SELECT next_at FROM deliveries"), "<null>");
  EXPECT_EQ(query(db, "SELECT updated_at = " + std::to_string(kNow) + " FROM deliveries"), "1");
  EXPECT_EQ(ledger->nextDue(), std::nullopt);
  LedgerCounts n = ledger->counts();
  EXPECT_EQ(n.delivered, 1u);
  EXPECT_EQ(n.deferred, 0u);

  // Several changes for one recipient in one batch: the last wins. No code: NULL.
  StateChange failed = change(2, "failed");
  failed.smtp_code = 0;
  ASSERT_TRUE(ledger->write({change(2, "deferred", kNow), change(2, "bounced"), failed})) << ledger->lastError();
  EXPECT_EQ(stateOf(db, 2), "failed");
  EXPECT_EQ(query(db, "SELECT smtp_code FROM deliveries WHERE recipient_id = 2"), "<null>");
  n = ledger->counts();
  EXPECT_EQ(n.failed, 1u);
  EXPECT_EQ(n.bounced, 0u);
  EXPECT_EQ(n.deferred, 0u);
}

TEST(CampaignLedger, ReadFinalOutcomesVisitsThisCampaignsFinalStatesOnly) {
  std::string db = makeDatabase(5);
  {
    auto ledger = openLedger(db);
    ASSERT_TRUE(ledger);
    StateChange delivered = change(1, "delivered");
    delivered.gateway = "gw2";
    delivered.delivery_ms = 12.5;
    StateChange failed = change(3, "failed");
    failed.gateway = "";
    std::vector<StateChange> changes = {delivered, change(2, "bounced"), failed, change(4, "deferred", kNow + 60)};
    ASSERT_TRUE(ledger->write(changes)) << ledger->lastError();
    std::vector<StoredRecipient> claimed;
    ASSERT_TRUE(ledger->write({change(5, "deferred", kNow - 1)})) << ledger->lastError();
    ASSERT_TRUE(ledger->claimDue(kNow, 10, claimed)) << ledger->lastError();  // 5 is 'sending'
    auto other = openLedger(db, "autumn");
    ASSERT_TRUE(other->write({change(4, "delivered")})) << other->lastError();
  }
  std::map<std::string, FinalOutcome> seen;  // by domain and state
  auto visited = CampaignLedger::readFinalOutcomes(db, "spring", [&](const FinalOutcome& o) {
    seen[o.domain + " " + std::string(recipientStateName(o.state))] = o;
  });
  ASSERT_TRUE(visited) << visited.error();
  EXPECT_EQ(*visited, 3u);
  ASSERT_EQ(seen.size(), 3u);
  ASSERT_TRUE(seen.count("d1.test delivered"));
  EXPECT_EQ(seen["d1.test delivered"].gateway, "gw2");
  EXPECT_EQ(seen["d1.test delivered"].delivery_ms, 12.5);
  ASSERT_TRUE(seen.count("d2.test bounced"));
  EXPECT_EQ(seen["d2.test bounced"].gateway, "gw1");
  ASSERT_TRUE(seen.count("d0.test failed"));
  EXPECT_EQ(seen["d0.test failed"].gateway, "");

  // Read-only: the file is not created, and a campaign with no outcomes visits none.
  auto none = CampaignLedger::readFinalOutcomes(db, "winter", [](const FinalOutcome&) { ADD_FAILURE(); });
  ASSERT_TRUE(none) << none.error();
  EXPECT_EQ(*none, 0u);
  std::string missing = test::tempPath("ledger-missing.db");
  std::remove(missing.c_str());
  auto error = CampaignLedger::readFinalOutcomes(missing, "spring", [](const FinalOutcome&) {});
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().find("ledger-missing.db"), std::string::npos) << error.error();
  EXPECT_NE(::access(missing.c_str(), F_OK), 0);
}

TEST(CampaignLedger, OpenFailsClearly) {
  auto ledger = CampaignLedger::open(test::tempPath("no-such-dir") + "/r.db", "spring");
  ASSERT_FALSE(ledger);
  EXPECT_NE(ledger.error().find("no-such-dir/r.db"), std::string::npos) << ledger.error();
}

// campaign.durability: "full" (the default) syncs each commit, so a power loss cannot roll back
// a batch the campaign has counted; "normal" is asked for explicitly.
TEST(CampaignLedger, CommitsAreDurableUnlessAskedOtherwise) {
  std::string db = makeDatabase(3);
  auto full = CampaignLedger::open(db, "spring");
  ASSERT_TRUE(full) << full.error();
  EXPECT_TRUE((*full)->durable());
  auto normal = CampaignLedger::open(db, "spring", false);
  ASSERT_TRUE(normal) << normal.error();
  EXPECT_FALSE((*normal)->durable());
}

}  // namespace
}  // namespace lbmail

namespace lbmail {
namespace {

// Issue 16, defect 10: a campaign's salt is made once per database and kept, so the Message-IDs
// it salts are the same on every attempt and run over one database and differ over another
// database with the same campaign name.
TEST(CampaignLedgerSalt, IsKeptInTheDatabaseAndDiffersBetweenDatabases) {
  std::string db = makeDatabase(3);
  uint64_t salt = 0;
  {
    auto ledger = openLedger(db);
    ASSERT_TRUE(ledger);
    salt = ledger->salt();
    EXPECT_NE(salt, 0u);
  }
  auto again = openLedger(db);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->salt(), salt);
  EXPECT_EQ(GatewayLinks::messageKey(again->salt(), 2), GatewayLinks::messageKey(salt, 2));
  auto other_campaign = openLedger(db, "autumn");
  ASSERT_TRUE(other_campaign);
  EXPECT_NE(other_campaign->salt(), salt);

  std::string other_path = test::tempPath("ledger-salt-other.db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((other_path + suffix).c_str());
  {
    auto store = RecipientStore::open(other_path);
    ASSERT_TRUE(store);
  }
  auto other = openLedger(other_path);
  ASSERT_TRUE(other);
  EXPECT_NE(other->salt(), salt);
  EXPECT_NE(GatewayLinks::messageKey(other->salt(), 2), GatewayLinks::messageKey(salt, 2));
}

TEST(CampaignLedgerRow, ShowsTheRecipientAndTheAttemptThatDecidedItsRow) {
  std::string db = makeDatabase(3);
  auto ledger = openLedger(db);
  ASSERT_TRUE(ledger);
  std::optional<LedgerRow> fresh = ledger->row(2);
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->has_state);
  EXPECT_EQ(fresh->recipient.email, "user2@d2.test");
  StateChange c = change(2, "delivered");
  c.request_id = 0xabc0000000002;
  StateChange repeat = change(2, "bounced");
  repeat.repeat = true;  // the accounting file's alone: the row stays delivered
  ASSERT_TRUE(ledger->write({c, repeat}));
  std::optional<LedgerRow> row = ledger->row(2);
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->has_state);
  EXPECT_EQ(row->state, "delivered");
  EXPECT_EQ(row->request_id, 0xabc0000000002u);
  EXPECT_FALSE(ledger->row(99));
}

}  // namespace
}  // namespace lbmail
