// The feedback listener's decisions: recipients by token or address, events by report.
#include "feedback_intake.h"

#include <algorithm>

#include "feedback_config.h"
#include "lbmail/core/ascii_case.h"

namespace lbmail {
namespace {

using feedback::ReportVerdict;
using feedback::TokenError;
using feedback::TokenFields;
using feedback::TokenPurpose;

std::string_view unbracketed(std::string_view a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') return a.substr(1, a.size() - 2);
  return a;
}

const char* refusalOf(TokenError e) {
  switch (e) {
    case TokenError::kMalformed: return "malformed";
    case TokenError::kUnknownKey: return "unknown_key";
    case TokenError::kForged: return "forged";
    case TokenError::kExpired: return "expired";
    case TokenError::kWrongPurpose: return "wrong_purpose";
  }
  return "malformed";
}

FeedbackTokenKey keyOf(const TokenFields& t) { return {t.campaign, t.recipient, t.attempt}; }

}  // namespace

FeedbackIntake::FeedbackIntake(const FeedbackIntakeSettings& settings, Used used)
    : settings_(settings), used_(std::move(used)) {}

feedback::TokenCheck FeedbackIntake::check(TokenPurpose purpose, uint64_t now_ms) const {
  // Unsubscribe links never expire (docs/feedback.md#tokens), by mail as by the HTTP endpoint:
  // max_age_days 0. token_max_age is for bounce tokens.
  uint16_t max_age = purpose == TokenPurpose::kUnsubscribe ? 0 : settings_.max_age_days;
  return {purpose, feedback::dayOf(now_ms), max_age};
}

FeedbackIntake::Decision FeedbackIntake::recipient(std::string_view address, uint64_t now_ms) {
  address = unbracketed(address);
  if (auto token = feedback::verpTokenOf(address, settings_.bounce_domains)) {
    auto fields = feedback::verifyToken(settings_.keys, *token, check(TokenPurpose::kBounce, now_ms));
    Target target = Target::kBounceToken;
    if (!fields && fields.error() == TokenError::kWrongPurpose) {
      // The mailto: of List-Unsubscribe (RFC 2369) carries the unsubscribe token.
      fields = feedback::verifyToken(settings_.keys, *token, check(TokenPurpose::kUnsubscribe, now_ms));
      target = Target::kUnsubscribeToken;
    }
    if (!fields) {
      return {550, "5.7.1", std::string("Invalid token: ") + feedback::tokenErrorText(fields.error()),
              refusalOf(fields.error())};
    }
    // A bounce or complaint already received for this message: a replayed report could
    // otherwise be counted again (and a complaint rate inflated by anyone who kept one).
    if (target == Target::kBounceToken && used_ && used_(keyOf(*fields))) {
      return {550, "5.7.1", "Token already used", "replay"};
    }
    recipients_.push_back({target, *fields});
    return {250, "2.1.5", "Ok", ""};
  }
  std::string lower = asciiLowercase(address);
  const auto& fa = settings_.feedback_addresses;
  if (std::find(fa.begin(), fa.end(), lower) != fa.end()) {
    recipients_.push_back({Target::kFeedbackAddress, {}});
    return {250, "2.1.5", "Ok", ""};
  }
  return {550, "5.1.1", "No such recipient here", "unknown_address"};
}

std::optional<TokenFields> FeedbackIntake::reportedToken(const feedback::FeedbackReport& report, uint64_t now_ms) const {
  for (const std::string& sender : report.original_senders) {
    auto token = feedback::verpTokenOf(sender, settings_.bounce_domains);
    if (!token) continue;
    auto fields = feedback::verifyToken(settings_.keys, *token, check(TokenPurpose::kBounce, now_ms));
    if (fields) return *fields;
  }
  for (const std::string& url : report.unsubscribe_urls) {
    auto token = feedback::unsubscribeTokenOf(url);
    if (!token) continue;
    auto fields = feedback::verifyToken(settings_.keys, *token, check(TokenPurpose::kUnsubscribe, now_ms));
    if (fields) return *fields;
  }
  return std::nullopt;
}

FeedbackEvent FeedbackIntake::eventFor(const TokenFields& token, proto::FeedbackKind kind,
                                       const feedback::FeedbackReport& report, uint64_t now_ms) {
  FeedbackEvent e;
  e.kind = kind;
  e.campaign = token.campaign;
  e.recipient = token.recipient;
  e.attempt = token.attempt;
  e.at_ms = now_ms;
  e.status = report.status.substr(0, 32);
  e.source = feedback::reportTypeName(report.type);
  e.detail = report.detail.substr(0, proto::kMaxFeedbackDetailBytes);
  return e;
}

FeedbackIntake::Result FeedbackIntake::message(std::string_view body, uint64_t now_ms) {
  Result result;
  feedback::FeedbackReport report = feedback::readReport(body);
  result.type = report.type;
  auto add = [&](FeedbackEvent e) {
    // Two recipients naming one token (or an address and a token) make one event.
    for (const FeedbackEvent& o : result.events) {
      if (o.kind == e.kind && o.campaign == e.campaign && o.recipient == e.recipient && o.attempt == e.attempt) return;
    }
    result.events.push_back(std::move(e));
  };
  for (const Recipient& r : recipients_) {
    switch (r.target) {
      case Target::kUnsubscribeToken: {
        FeedbackEvent e = eventFor(r.token, proto::FeedbackKind::kUnsubscribe, report, now_ms);
        e.status.clear();
        e.source = "mailto";
        e.detail.clear();
        add(std::move(e));
        break;
      }
      case Target::kBounceToken:
        if (report.verdict == ReportVerdict::kHardBounce) add(eventFor(r.token, proto::FeedbackKind::kHardBounce, report, now_ms));
        if (report.verdict == ReportVerdict::kSoftBounce) add(eventFor(r.token, proto::FeedbackKind::kSoftBounce, report, now_ms));
        if (report.verdict == ReportVerdict::kComplaint) add(eventFor(r.token, proto::FeedbackKind::kComplaint, report, now_ms));
        break;
      case Target::kFeedbackAddress: {
        if (report.verdict != ReportVerdict::kComplaint) break;
        auto token = reportedToken(report, now_ms);
        if (!token) {
          result.unattributed = true;
          break;
        }
        if (used_ && used_(keyOf(*token))) break;  // already complained or bounced: a replay
        add(eventFor(*token, proto::FeedbackKind::kComplaint, report, now_ms));
        break;
      }
    }
  }
  return result;
}

}  // namespace lbmail
