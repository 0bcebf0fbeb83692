// The compiled rules file of the reply classifier: pattern rules (regular expressions over
// "code enhanced text") with the class each gives, generic and per provider, and each
// provider's MX host names. Private to src/shaping/; format in configs/shaping-rules.toml.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/config_document.h"
#include "lbmail/shaping/reply_class.h"

namespace lbmail::shaping {

struct PatternRule {
  std::regex pattern;  // ECMAScript, case-insensitive, compiled once at load
  ReplyClass reply_class = ReplyClass::kTransient;
  // Lower case; the pattern cannot match a subject without one of them (none: no such words).
  std::vector<std::string> literals;

  // lowered: subject in ASCII lower case, for the literals.
  bool matches(const std::string& subject, std::string_view lowered) const;
};

struct ProviderRules {
  std::string name;
  // Lower case, without a final dot: ".google.com" matches any host name ending in it,
  // "mx.example.com" only that host.
  std::vector<std::string> mx;
  std::vector<PatternRule> rules;

  bool hosts(std::string_view mx_host) const;  // mx_host: lower case, no final dot
};

struct ClassifierRules {
  std::vector<PatternRule> generic;
  std::vector<ProviderRules> providers;  // in file order: the first that hosts a name wins

  const ProviderRules* provider(std::string_view name) const;
};

// Longest pattern accepted: a bound on compile time and memory for a user's file.
constexpr size_t kMaxPatternLength = 2048;

// Reads [[rule]] and [[provider]] tables from root; throws ConfigError naming file, line and
// key for a bad value (a pattern that does not compile, an unknown class, a duplicate
// provider). Unknown keys are the caller's (ConfigDocument::rejectUnknownKeys).
ClassifierRules readClassifierRules(ConfigTable& root);

}  // namespace lbmail::shaping
