// Tests for src/initiator/ledger_writer.cc on a real SQLite file and a real libuv loop: state
// changes wait for a full batch or the batch interval, sending is held back two batches behind,
// each batch's accounting lines are written before its ledger transaction, and a failed write
// is kept and written again with the next batch. Also stateChange(), the row for a decision.
#include "ledger_writer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <uv.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "ledger_test_support.h"

namespace lbmail {
namespace {

using test::query;

constexpr double kAt = 1'700'000'000.0;

StateChange change(uint64_t id, RecipientState state) {
  StateChange c;
  c.recipient_id = id;
  c.state = state;
  c.attempts = 1;
  c.material = "standard";
  c.gateway = "gw1";
  c.smtp_code = state == RecipientState::kDelivered ? 250 : 451;
  c.next_at = state == RecipientState::kDeferred ? kAt + 60 : 0;
  c.at = kAt;
  c.email = "user" + std::to_string(id) + "@d.test";
  c.domain = "d.test";
  return c;
}

// Runs SQL on a connection of its own, as another process would.
void execOn(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(h);
}

std::string fileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LedgerWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    campaign_.name = "spring";
    campaign_.database = test::makeDatabase(6);
    campaign_.batch_size = 2;
    campaign_.batch_interval = std::chrono::milliseconds(200);
  }
  void TearDown() override {
    finishWrites();
    writer_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  LedgerWriter& open(uint64_t now_ms = 1000) {
    writer_ = std::make_unique<LedgerWriter>(background_, campaign_, [this] { ++written_; });
    EXPECT_TRUE(writer_->open(now_ms));
    return *writer_;
  }
  // Runs the loop until every write posted so far has finished and its completion has run.
  void finishWrites() {
    bool idle = false;
    background_.whenIdle([&] { idle = true; });
    while (!idle) uv_run(&loop_, UV_RUN_ONCE);
  }
  std::string stateOf(uint64_t id) {
    return query(campaign_.database, "SELECT coalesce((SELECT state FROM deliveries WHERE campaign = 'spring' AND "
                                     "recipient_id = " + std::to_string(id) + "), '<no row>')");
  }
  // Records a full batch (1 deferred, 2 delivered) whose ledger write fails, as on a full disk;
  // the database refuses rows until DROP TRIGGER refuse.
  void writeARefusedBatch(LedgerWriter& w) {
    execOn(campaign_.database,
           "CREATE TRIGGER refuse BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    w.record(change(1, RecipientState::kDeferred), 1000);
    w.record(change(2, RecipientState::kDelivered), 1000);
    finishWrites();
  }
  std::string rows() { return query(campaign_.database, "SELECT count(*) FROM deliveries"); }

  uv_loop_t loop_{};
  BackgroundQueue background_{&loop_};
  CampaignSettings campaign_;
  std::unique_ptr<LedgerWriter> writer_;
  int written_ = 0;
};

TEST_F(LedgerWriterTest, ChangesWaitForAFullBatch) {
  campaign_.batch_size = 3;
  LedgerWriter& w = open();
  EXPECT_TRUE(w.idle());
  w.record(change(1, RecipientState::kDelivered), 1000);
  w.record(change(2, RecipientState::kBounced), 1000);
  EXPECT_FALSE(w.idle());
  finishWrites();
  EXPECT_EQ(written_, 0);
  EXPECT_EQ(rows(), "0");
  w.record(change(3, RecipientState::kDeferred), 1000);  // the third fills the batch
  finishWrites();
  EXPECT_EQ(written_, 1);
  EXPECT_TRUE(w.idle());
  EXPECT_EQ(rows(), "3");
  EXPECT_EQ(stateOf(1), "delivered");
  EXPECT_EQ(stateOf(2), "bounced");
  EXPECT_EQ(stateOf(3), "deferred");
}

TEST_F(LedgerWriterTest, TickFlushesOnceTheBatchIntervalHasPassed) {
  campaign_.batch_size = 100;
  LedgerWriter& w = open(1000);
  w.record(change(1, RecipientState::kDelivered), 1000);
  w.tick(1199);
  finishWrites();
  EXPECT_EQ(written_, 0);
  EXPECT_EQ(stateOf(1), "<no row>");
  w.tick(1200);
  finishWrites();
  EXPECT_EQ(written_, 1);
  EXPECT_EQ(stateOf(1), "delivered");
  // The interval counts from that flush: a change recorded now waits for 1400.
  w.record(change(2, RecipientState::kDelivered), 1300);
  w.tick(1399);
  finishWrites();
  EXPECT_EQ(stateOf(2), "<no row>");
  w.flush(1399);  // an explicit flush does not wait
  finishWrites();
  EXPECT_EQ(written_, 2);
  EXPECT_EQ(stateOf(2), "delivered");
}

TEST_F(LedgerWriterTest, BackloggedAtTwoBatchesWaitingOrBeingWritten) {
  LedgerWriter& w = open();  // batch_size 2: backlogged from 4 changes not yet committed
  w.record(change(1, RecipientState::kDelivered), 1000);
  w.record(change(2, RecipientState::kDelivered), 1000);  // being written from here
  w.record(change(3, RecipientState::kDelivered), 1000);
  EXPECT_FALSE(w.backlogged());
  w.record(change(4, RecipientState::kDelivered), 1000);  // two batches being written
  EXPECT_TRUE(w.backlogged());
  finishWrites();
  EXPECT_FALSE(w.backlogged());
  EXPECT_TRUE(w.idle());
  EXPECT_EQ(written_, 2);
  EXPECT_EQ(rows(), "4");
}

TEST_F(LedgerWriterTest, AccountingLinesAreWrittenEvenWhenTheLedgerWriteFails) {
  campaign_.accounting_file = campaign_.database + ".csv";
  std::remove(campaign_.accounting_file.c_str());
  LedgerWriter& w = open();
  writeARefusedBatch(w);
  // The lines come first: after a crash between the two, a line is repeated, never missing.
  std::string text = fileText(campaign_.accounting_file);
  EXPECT_EQ(text.rfind(AccountingLog::kHeader, 0), 0u) << text;
  EXPECT_NE(text.find(",user1@d.test,d.test,standard,gw1,deferred,451,"), std::string::npos) << text;
  EXPECT_NE(text.find(",user2@d.test,d.test,standard,gw1,delivered,250,"), std::string::npos) << text;
  EXPECT_LT(text.find("user1@"), text.find("user2@"));
  EXPECT_EQ(written_, 0);
  EXPECT_EQ(rows(), "0");
}

TEST_F(LedgerWriterTest, AFailedWriteIsKeptAndWrittenWithTheNextBatch) {
  LedgerWriter& w = open();
  writeARefusedBatch(w);
  EXPECT_EQ(written_, 0);
  EXPECT_EQ(rows(), "0");
  EXPECT_FALSE(w.idle());  // the two changes wait again
  execOn(campaign_.database, "DROP TRIGGER refuse");
  // Recipient 1's later outcome comes after its earlier one, so the later one stands.
  w.record(change(1, RecipientState::kDelivered), 1000);
  finishWrites();
  EXPECT_EQ(written_, 1);
  EXPECT_TRUE(w.idle());
  EXPECT_EQ(rows(), "2");
  EXPECT_EQ(stateOf(1), "delivered");
  EXPECT_EQ(stateOf(2), "delivered");
}

TEST_F(LedgerWriterTest, OpenFailsWhenTheDatabaseOrTheAccountingFileCannotBeOpened) {
  CampaignSettings bad_database = campaign_;
  bad_database.database = test::tempPath("no-such-folder/ledger.db");
  LedgerWriter no_db(background_, bad_database, [] {});
  EXPECT_FALSE(no_db.open(0));
  CampaignSettings bad_accounting = campaign_;
  bad_accounting.accounting_file = test::tempPath("no-such-folder/accounting.csv");
  LedgerWriter no_file(background_, bad_accounting, [] {});
  EXPECT_FALSE(no_file.open(0));
}

TEST(StateChangeOf, TakesTheRecipientTheDecisionAndTheMaterialsName) {
  CampaignSettings campaign;
  campaign.materials.resize(2);
  campaign.materials[1].name = "gold";
  PendingRecipient p;
  p.id = 42;
  p.email = "ann@d.example";
  p.domain = "d.example";
  p.material = 1;
  p.first_at = kAt - 300;
  OutcomeDecision d;
  d.kind = OutcomeDecision::Kind::kDefer;
  d.state = RecipientState::kDeferred;
  d.attempts = 3;
  d.next_at = kAt + 900;
  d.smtp_code = 451;
  d.enhanced_code = "4.7.1";
  d.reason = "greylisted";
  d.delivery_ms = 12.5;
  StateChange c = stateChange(std::move(p), d, campaign, "gw-b", kAt);
  EXPECT_EQ(c.recipient_id, 42u);
  EXPECT_EQ(c.state, RecipientState::kDeferred);
  EXPECT_EQ(c.attempts, 3u);
  EXPECT_EQ(c.material, "gold");
  EXPECT_EQ(c.gateway, "gw-b");
  EXPECT_EQ(c.smtp_code, 451);
  EXPECT_EQ(c.enhanced_code, "4.7.1");
  EXPECT_EQ(c.reason, "greylisted");
  EXPECT_EQ(c.delivery_ms, 12.5);
  EXPECT_EQ(c.first_at, kAt - 300);
  EXPECT_EQ(c.next_at, kAt + 900);
  EXPECT_EQ(c.at, kAt);
  EXPECT_EQ(c.email, "ann@d.example");
  EXPECT_EQ(c.domain, "d.example");

  PendingRecipient none;
  none.material = -1;  // failed before any material was chosen
  EXPECT_EQ(stateChange(std::move(none), d, campaign, "", kAt).material, "");
}

}  // namespace
}  // namespace lbmail
