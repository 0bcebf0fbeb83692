// The suppression list in the recipient database: addresses no campaign sends to, each with why
// (a hard bounce, a complaint, an unsubscribe, repeated soft bounces, or a person's say-so),
// where it came from and when. Beside it, feedback_events keeps every FEEDBACK event applied,
// unique per gateway spool entry, so the same event applied twice (a gateway sends it again
// when its ack was lost) changes nothing, and soft bounces are counted from it. Schema:
// docs/operations.md, "Recipient database". Used off the event loop (BackgroundQueue) or by
// `lbmail suppress`; never two calls at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lbmail/core/expected.h"
#include "lbmail/proto/frames.h"

struct sqlite3;

namespace lbmail {

class RecipientStore;

// The reasons the suppressions table names.
inline constexpr std::string_view kSuppressionReasons[] = {"hard_bounce", "complaint", "unsubscribe", "soft_bounce",
                                                           "manual"};
bool validSuppressionReason(std::string_view reason);

struct Suppression {
  std::string address;  // lower case
  std::string reason;
  std::string source;
  std::string campaign;
  std::string detail;
  double created = 0;  // unix seconds
};

// One FEEDBACK event as it is applied: the frame's fields with the gateway that sent it.
struct FeedbackRecord {
  std::string gateway;
  uint64_t sequence = 0;
  proto::FeedbackKind kind = proto::FeedbackKind::kHardBounce;
  uint32_t campaign_number = 0;
  uint64_t recipient_id = 0;
  uint8_t attempt = 0;  // the token's: soft bounces count once per (campaign_number, attempt)
  std::string status;
  std::string source;
  std::string detail;
  double at = 0;  // unix seconds

  static FeedbackRecord of(std::string gateway, const proto::FeedbackFrame& f);
};

struct FeedbackRule {
  uint32_t soft_bounce_limit = 3;
  double soft_bounce_window_s = 7 * 86400.0;
};

struct FeedbackApplied {
  bool duplicate = false;   // applied before: nothing changed
  // The campaign number is not in this database: the event belongs to another recipient
  // database's initiator sharing the key (docs/feedback.md), and nothing was applied.
  bool foreign = false;
  bool suppressed = false;  // the recipient's address is suppressed (now or already)
  std::string address;      // empty when the recipient id is unknown here
  std::string domain;       // the recipient's
  std::string gateway;      // the gateway that last sent it in the event's campaign; "" if none
};

class SuppressionStore {
 public:
  // Creates the tables when missing (a database made before them gets them).
  static Expected<bool, std::string> createSchema(sqlite3* db);
  // Opens (creating if needed) the recipient database at path.
  static Expected<std::unique_ptr<SuppressionStore>, std::string> open(const std::string& path);
  // On a connection someone else owns (the campaign ledger's), which must outlive it.
  explicit SuppressionStore(sqlite3* db);
  ~SuppressionStore();
  SuppressionStore(const SuppressionStore&) = delete;
  SuppressionStore& operator=(const SuppressionStore&) = delete;

  // address is lowercased. True when it was added; an address already listed keeps its first
  // reason (false, no error).
  bool add(const Suppression& s);
  // True when it was listed.
  bool remove(std::string_view address);
  bool isSuppressed(std::string_view address);
  // Every suppression (of reason, when given), by address; false on a database error.
  bool list(std::optional<std::string_view> reason, const std::function<void(const Suppression&)>& visit);
  // Records the event and suppresses the recipient's address as its kind says, in one
  // transaction; nullopt on a database error (lastError).
  std::optional<FeedbackApplied> applyFeedback(const FeedbackRecord& e, const FeedbackRule& rule);

  bool begin();
  bool commit();
  void rollback();
  const std::string& lastError() const { return error_; }

 private:
  SuppressionStore(std::unique_ptr<RecipientStore> owned, sqlite3* db);
  bool fail();
  bool recordEvent(const FeedbackRecord& e, bool& inserted);
  // The campaigns table's name for number; missing when it has none.
  bool campaignName(uint32_t number, std::string& name, bool& missing);
  // Fills the recipient's address, domain and last gateway; false when there is no such
  // recipient (ok says whether the database answered).
  bool findRecipient(const FeedbackRecord& e, FeedbackApplied& out, bool& ok);
  bool softBounceLimitReached(const FeedbackRecord& e, const FeedbackRule& rule, bool& ok);

  std::unique_ptr<RecipientStore> owned_;
  sqlite3* db_;
  std::string error_;
};

}  // namespace lbmail
