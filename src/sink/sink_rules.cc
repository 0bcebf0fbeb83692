// Rule matching and latency draws for the sink.
#include "sink_rules.h"

#include <algorithm>
#include <cctype>

namespace lbmail {

namespace {

// A duration a latency may use: no more than LatencySpec::kMax, so that every draw, up to 20
// exponential means, stays far inside the nanosecond counter.
std::optional<Duration> latencyDuration(std::string_view text) {
  std::optional<Duration> d = parseDuration(text);
  if (!d || d->count() < 0 || *d > LatencySpec::kMax) return std::nullopt;
  return d;
}

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// RFC 3463 section 2: class.subject.detail, each part 1 to 3 digits.
bool isEnhancedCode(std::string_view s) {
  size_t first = s.find('.'), second = s.find('.', first + 1);
  if (first != 1 || second == std::string_view::npos) return false;
  std::string_view subject = s.substr(2, second - 2), detail = s.substr(second + 1);
  return isDigits(s.substr(0, 1)) && isDigits(subject) && subject.size() <= 3 && isDigits(detail) &&
         detail.size() <= 3;
}

}  // namespace

std::optional<SinkReply> SinkReply::parse(std::string_view line, int klass) {
  if (line.find_first_of("\r\n") != std::string_view::npos || line.size() < 3 || !isDigits(line.substr(0, 3))) {
    return std::nullopt;
  }
  SinkReply r;
  r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (r.code / 100 != klass || (line.size() > 3 && line[3] != ' ')) return std::nullopt;
  std::string_view rest = line.size() > 4 ? line.substr(4) : std::string_view();
  std::string_view word = rest.substr(0, rest.find(' '));
  if (isEnhancedCode(word)) {
    if (word[0] - '0' != klass) return std::nullopt;
    r.enhanced = std::string(word);
    rest = rest.substr(std::min(rest.size(), word.size() + 1));
  }
  r.text = std::string(rest);
  return r;
}

std::optional<LatencySpec> LatencySpec::parse(std::string_view text) {
  LatencySpec spec;
  if (text.starts_with("exp:")) {
    auto mean = latencyDuration(text.substr(4));
    if (!mean) return std::nullopt;
    spec.kind_ = Kind::kExponential;
    spec.low_ = *mean;
    return spec;
  }
  size_t dots = text.find("..");
  if (dots != std::string_view::npos) {
    auto low = latencyDuration(text.substr(0, dots));
    auto high = latencyDuration(text.substr(dots + 2));
    if (!low || !high || *high < *low) return std::nullopt;
    spec.kind_ = Kind::kUniform;
    spec.low_ = *low;
    spec.high_ = *high;
    return spec;
  }
  auto fixed = latencyDuration(text);
  if (!fixed) return std::nullopt;
  spec.low_ = *fixed;
  return spec;
}

Duration LatencySpec::draw(std::mt19937_64& rng) const {
  switch (kind_) {
    case Kind::kFixed:
      return low_;
    case Kind::kUniform:
      return Duration(std::uniform_int_distribution<int64_t>(low_.count(), high_.count())(rng));
    case Kind::kExponential: {
      double mean = static_cast<double>(low_.count());
      if (mean <= 0) return Duration(0);
      // Capped at 20 means so one draw cannot stall a connection for ever.
      double v = std::min(std::exponential_distribution<double>(1.0 / mean)(rng), 20 * mean);
      return Duration(static_cast<int64_t>(v));
    }
  }
  return Duration(0);
}

bool SinkRules::domainMatches(std::string_view pattern, std::string_view domain) {
  auto iequal = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  if (pattern.starts_with('.')) {
    // ".example.com" matches example.com and every name below it.
    std::string_view base = pattern.substr(1);
    if (iequal(domain, base)) return true;
    return domain.size() > pattern.size() && iequal(domain.substr(domain.size() - pattern.size()), pattern);
  }
  return iequal(pattern, domain);
}

const SinkRule& SinkRules::match(std::string_view client, std::string_view domain, Duration elapsed) const {
  for (const SinkRule& r : rules_) {
    if (elapsed < r.after) continue;
    if (!r.client.empty() && r.client != client) continue;
    if (!r.domain.empty() && (domain.empty() || !domainMatches(r.domain, domain))) continue;
    return r;
  }
  return default_;
}

}  // namespace lbmail
