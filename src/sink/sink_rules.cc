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

}  // namespace

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
