// What the feedback listener decides, without any I/O: which recipients it takes (a valid
// token at a bounce domain, a configured feedback address) and which events a received message
// makes (docs/feedback.md#receiving). One per SMTP session; reset for each transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "feedback_event.h"
#include "lbmail/feedback/feedback_key.h"
#include "lbmail/feedback/feedback_report.h"
#include "lbmail/feedback/feedback_token.h"

namespace lbmail {

struct FeedbackIntakeSettings {
  std::span<const feedback::FeedbackKey> keys;
  std::span<const std::string> bounce_domains;      // lowercase
  std::span<const std::string> feedback_addresses;  // lowercase
  uint16_t max_age_days = 30;
};

class FeedbackIntake {
 public:
  // Whether a final event (hard bounce, complaint) was already received for a token.
  using Used = std::function<bool(const FeedbackTokenKey& token)>;

  struct Decision {
    int code = 250;
    std::string enhanced;
    std::string text;
    std::string refusal;  // for the count: "malformed", "forged", "expired", "unknown_key",
                          // "wrong_purpose", "replay", "unknown_address"; empty when accepted
  };
  // What a message came to.
  struct Result {
    feedback::ReportType type = feedback::ReportType::kNone;
    std::vector<FeedbackEvent> events;  // not yet numbered
    bool unattributed = false;  // a complaint at a feedback address with no valid token in it
  };

  FeedbackIntake(const FeedbackIntakeSettings& settings, Used used);

  // A new transaction (MAIL FROM): the recipients taken so far are forgotten.
  void reset() { recipients_.clear(); }
  // RCPT TO: 250 (and remembered for the message), or a 550 saying why not.
  Decision recipient(std::string_view address, uint64_t now_ms);
  // End of data: the events the message makes for the recipients taken.
  Result message(std::string_view body, uint64_t now_ms);

 private:
  enum class Target { kBounceToken, kUnsubscribeToken, kFeedbackAddress };
  struct Recipient {
    Target target;
    feedback::TokenFields token;  // for the token targets
  };

  feedback::TokenCheck check(feedback::TokenPurpose purpose, uint64_t now_ms) const;
  // The first token in an ARF report's original headers that verifies, if any.
  std::optional<feedback::TokenFields> reportedToken(const feedback::FeedbackReport& report, uint64_t now_ms) const;
  static FeedbackEvent eventFor(const feedback::TokenFields& token, proto::FeedbackKind kind,
                                const feedback::FeedbackReport& report, uint64_t now_ms);

  FeedbackIntakeSettings settings_;
  Used used_;
  std::vector<Recipient> recipients_;
};

}  // namespace lbmail
