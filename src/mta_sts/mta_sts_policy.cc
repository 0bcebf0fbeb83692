// The MTA-STS policy body parsed to the grammar of RFC 8461 section 3.2, and MX matching
// (section 4.1).
#include "lbmail/mta_sts/mta_sts_policy.h"

#include <cstdint>
#include <optional>

#include "lbmail/dns/domain_name.h"
#include "mta_sts_text.h"

namespace lbmail::mta_sts {
namespace {

using Mode = MtaStsPolicy::Mode;
constexpr size_t kMaxAgeDigits = 10;  // sts-policy-max-age-value = 1*10(DIGIT)

std::optional<Mode> parseMode(std::string_view v) {
  // The values are case-sensitive (%s in the ABNF).
  if (v == "enforce") return Mode::kEnforce;
  if (v == "testing") return Mode::kTesting;
  if (v == "none") return Mode::kNone;
  return std::nullopt;
}

std::optional<std::chrono::seconds> parseMaxAge(std::string_view v) {
  if (v.empty() || v.size() > kMaxAgeDigits) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > static_cast<uint64_t>(kMaxPolicyAge.count())) return std::nullopt;
  return std::chrono::seconds(n);
}

// sts-policy-mx-value = ["*."] Domain, kept in the resolver's spelling (lowercase, no dot).
std::optional<std::string> parseMxPattern(std::string_view v) {
  bool wildcard = v.starts_with("*.");
  if (wildcard) v.remove_prefix(2);
  std::optional<std::string> name = dns::normalizeDomain(v);
  if (!name) return std::nullopt;
  return wildcard ? "*." + *name : *name;
}

// What the lines have said so far; each of version, mode and max_age at most once.
struct PolicyFields {
  bool version = false;
  std::optional<Mode> mode;
  std::optional<std::chrono::seconds> max_age;
  std::vector<std::string> mx;
};

// "" or why the field is refused.
std::string takeField(PolicyFields& f, std::string_view key, std::string_view value) {
  auto twice = [&] { return std::string(key) + " appears more than once"; };
  if (key == "version") {
    if (f.version) return twice();
    if (value != "STSv1") return "version '" + std::string(value) + "' is not STSv1";
    f.version = true;
  } else if (key == "mode") {
    if (f.mode) return twice();
    f.mode = parseMode(value);
    if (!f.mode) return "mode '" + std::string(value) + "' is not enforce, testing or none";
  } else if (key == "max_age") {
    if (f.max_age) return twice();
    f.max_age = parseMaxAge(value);
    if (!f.max_age) return "max_age '" + std::string(value) + "' is not a number of seconds up to 31557600";
  } else if (key == "mx") {
    std::optional<std::string> pattern = parseMxPattern(value);
    if (!pattern) return "mx '" + std::string(value) + "' is not a host name or a *. pattern";
    f.mx.push_back(std::move(*pattern));
  }
  // Other keys are extensions, which senders ignore (RFC 8461 section 3.2).
  return "";
}

std::string lineError(size_t line, const std::string& why) { return "line " + std::to_string(line) + ": " + why; }

}  // namespace

std::string_view modeName(Mode mode) {
  switch (mode) {
    case Mode::kEnforce: return "enforce";
    case Mode::kTesting: return "testing";
    case Mode::kNone: return "none";
  }
  return "none";
}

Expected<MtaStsPolicy, std::string> parseMtaStsPolicy(std::string_view body) {
  if (body.size() > kMaxPolicyBytes) {
    return unexpected("policy of " + std::to_string(body.size()) + " bytes is over the " +
                      std::to_string(kMaxPolicyBytes) + "-byte limit");
  }
  PolicyFields f;
  size_t number = 0;
  while (!body.empty()) {
    ++number;
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    // sts-policy-term = LF / CRLF; a field may be followed by white space.
    if (line.ends_with('\r')) line.remove_suffix(1);
    line = trimWsp(line);
    // Blank lines are outside the grammar, but many servers end a policy with one.
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return unexpected(lineError(number, "no ':'"));
    std::string_view key = line.substr(0, colon);
    if (!fieldName(key)) return unexpected(lineError(number, "malformed key '" + std::string(key) + "'"));
    // sts-policy-field-delim = ":" *WSP
    if (std::string why = takeField(f, key, trimWsp(line.substr(colon + 1))); !why.empty()) {
      return unexpected(lineError(number, why));
    }
  }
  if (!f.version) return unexpected<std::string>("no version");
  if (!f.mode) return unexpected<std::string>("no mode");
  if (!f.max_age) return unexpected<std::string>("no max_age");
  // RFC 8461 section 3.2: mx is required at least once, except when mode is none.
  if (f.mx.empty() && *f.mode != Mode::kNone) return unexpected<std::string>("no mx");
  return MtaStsPolicy{*f.mode, std::move(f.mx), *f.max_age};
}

bool MtaStsPolicy::matches(std::string_view mx_host) const {
  std::optional<std::string> host = dns::normalizeDomain(mx_host);
  if (!host) return false;
  for (const std::string& pattern : mx) {
    if (!pattern.starts_with("*.")) {
      if (pattern == *host) return true;
      continue;
    }
    // The wildcard stands for exactly one label, never for none or several.
    std::string_view suffix = std::string_view(pattern).substr(1);
    if (host->size() <= suffix.size() || !host->ends_with(suffix)) continue;
    std::string_view label = std::string_view(*host).substr(0, host->size() - suffix.size());
    if (label.find('.') == std::string_view::npos) return true;
  }
  return false;
}

}  // namespace lbmail::mta_sts
