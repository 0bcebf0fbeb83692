// TLS policy names and the pool key of a requirement.
#include "lbmail/delivery/tls_policy.h"

#include <array>
#include <utility>

namespace lbmail::delivery {
namespace {

constexpr std::array<std::pair<TlsPolicy, const char*>, 6> kPolicies{{
    {TlsPolicy::kNone, "none"},
    {TlsPolicy::kOpportunistic, "opportunistic"},
    {TlsPolicy::kEncrypt, "encrypt"},
    {TlsPolicy::kVerify, "verify"},
    {TlsPolicy::kDane, "dane"},
    {TlsPolicy::kMtaSts, "mta-sts"},
}};

}  // namespace

const char* tlsPolicyName(TlsPolicy policy) {
  for (const auto& [p, name] : kPolicies) {
    if (p == policy) return name;
  }
  return "unknown";
}

std::optional<TlsPolicy> parseTlsPolicy(std::string_view name) {
  for (const auto& [p, n] : kPolicies) {
    if (name == n) return p;
  }
  return std::nullopt;
}

const char* tlsLevelName(TlsLevel level) {
  switch (level) {
    case TlsLevel::kNone: return "none";
    case TlsLevel::kMay: return "may";
    case TlsLevel::kEncrypt: return "encrypt";
    case TlsLevel::kVerify: return "verify";
    case TlsLevel::kDane: return "dane";
  }
  return "unknown";
}

std::string TlsRequirement::key() const {
  // Only a level that checks the certificate against the host needs connections of its own
  // per host name. Without a check, the MX names of many domains that point at one address
  // (every Microsoft 365 tenant has its own) share that address's connections and limits, as
  // they do in plain.
  // MTA-STS testing checks without enforcing: its own connections (they log what fails), but
  // not one set per MX name either.
  bool checks_host = level == TlsLevel::kVerify || level == TlsLevel::kDane;
  if (!checks_host) return std::string(tlsLevelName(level)) + (testing ? "/testing" : "");
  std::string k = std::string(tlsLevelName(level)) + "/" + host;
  // The records in full, not a hash of them: a connection checked against one set must never
  // be reused for another.
  static constexpr char kHex[] = "0123456789abcdef";
  for (const dns::TlsaRecord& r : tlsa) {
    k += "/" + std::to_string(r.usage) + std::to_string(r.selector) + std::to_string(r.matching_type) + ":";
    for (uint8_t b : r.data) {
      k += kHex[b >> 4];
      k += kHex[b & 15];
    }
  }
  return k;
}

}  // namespace lbmail::delivery
