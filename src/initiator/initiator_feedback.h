// The initiator's [feedback] section: the key tokens are signed with, the bounce domain of the
// VERP return paths, the one-click unsubscribe base URL, the soft-bounce rule and the rate
// thresholds (docs/feedback.md). Without key_file no token is minted: the plain sender, no
// unsubscribe fields; the suppression list applies either way.
#pragma once

#include <cstdint>
#include <string>

#include "lbmail/core/config_document.h"

namespace lbmail {

struct InitiatorFeedback {
  std::string key_file;  // empty: no tokens are minted
  uint8_t key_id = 1;
  std::string bounce_domain;  // empty: the campaign's plain sender
  std::string bounce_local = "bounce";
  std::string unsubscribe_url;  // an absolute http(s) base without a trailing slash; empty: none
  uint32_t soft_bounce_limit = 3;
  Duration soft_bounce_window = std::chrono::hours(24 * 7);
  double bounce_warn = 0.02;
  double bounce_alarm = 0.05;
  double complaint_warn = 0.001;
  double complaint_alarm = 0.003;

  bool enabled() const { return !key_file.empty(); }
  bool verpPossible() const { return enabled() && !bounce_domain.empty(); }
  bool unsubscribeFields() const { return enabled() && !unsubscribe_url.empty(); }
};

// The merge fields the initiator fills itself when unsubscribe_url is set.
inline constexpr const char* kUnsubscribeTokenField = "unsubscribe_token";
inline constexpr const char* kUnsubscribeUrlField = "unsubscribe_url";

InitiatorFeedback readInitiatorFeedback(ConfigTable t, const std::string& config_file);

// A material's List-Unsubscribe when it names none and the base URL is set:
// "<BASE/{{unsubscribe_token}}>" and, with a bounce domain, the mailto form beside it. The token
// field, not the URL field: merge values are percent-encoded into this header.
std::string defaultListUnsubscribe(const InitiatorFeedback& f);

}  // namespace lbmail
