// An MTA-STS policy (RFC 8461 section 3.2) as a receiving domain publishes it over HTTPS: its
// parser, and which MX hosts it lets a sender deliver to (section 4.1).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/mta_sts/mta_sts_record.h"

namespace lbmail::mta_sts {

// RFC 8461 section 3.3 suggests 64 kilobytes as the largest policy a sender reads.
inline constexpr size_t kMaxPolicyBytes = 64 * 1024;
// RFC 8461 section 3.2: max_age is at most 31557600 seconds (about a year).
inline constexpr std::chrono::seconds kMaxPolicyAge{31557600};

struct MtaStsPolicy {
  enum class Mode { kEnforce, kTesting, kNone };
  Mode mode = Mode::kNone;
  // Lowercase names without a trailing dot; "*.example.com" is a wildcard pattern.
  std::vector<std::string> mx;
  std::chrono::seconds max_age{0};

  // RFC 8461 section 4.1: mx_host (any case, trailing dot or not) equals a pattern, or a
  // "*." pattern's suffix after exactly one left-most label ("*.example.com" matches
  // "mail.example.com", neither "example.com" nor "a.b.example.com").
  bool matches(std::string_view mx_host) const;
};

// "enforce", "testing", "none".
std::string_view modeName(MtaStsPolicy::Mode mode);

// The policy body as served (CRLF or LF line ends, RFC 8461 section 3.2): version: STSv1,
// mode, max_age (<= kMaxPolicyAge) once each, at least one mx unless mode is none; unknown
// keys ignored; bodies over kMaxPolicyBytes refused. The error says which line and why.
Expected<MtaStsPolicy, std::string> parseMtaStsPolicy(std::string_view body);

}  // namespace lbmail::mta_sts
