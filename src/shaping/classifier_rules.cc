// Reading and compiling the reply classifier's rules file (configs/shaping-rules.toml).
#include "classifier_rules.h"

#include <algorithm>
#include <cctype>

#include "classifier_prefilter.h"

namespace lbmail::shaping {

namespace {

constexpr std::string_view kClassChoices = "one of mailbox, block, throttle, transient, protocol";
constexpr size_t kMaxProviderName = 64;

std::string lowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

PatternRule readRule(ConfigTable& table) {
  PatternRule rule;
  std::optional<std::string> cls = table.optionalString("class");
  std::optional<ReplyClass> parsed = cls ? parseReplyClass(*cls) : std::nullopt;
  // A 2xx never reaches the patterns (the class of a success is fixed), so "delivered" is
  // refused rather than silently never used.
  if (!parsed || *parsed == ReplyClass::kDelivered) table.fail("class", kClassChoices);
  rule.reply_class = *parsed;
  std::optional<std::string> pattern = table.optionalString("pattern");
  std::string expected =
      "a regular expression (ECMAScript) of 1 to " + std::to_string(kMaxPatternLength) + " characters";
  if (!pattern || pattern->empty() || pattern->size() > kMaxPatternLength) table.fail("pattern", expected);
  try {
    rule.pattern = std::regex(*pattern, std::regex::ECMAScript | std::regex::icase | std::regex::optimize);
  } catch (const std::regex_error& e) {
    table.fail("pattern", "a valid regular expression (ECMAScript): " + std::string(e.what()));
  }
  rule.literals = requiredLiterals(*pattern);
  return rule;
}

std::vector<PatternRule> readRules(ConfigTable& table) {
  std::vector<PatternRule> rules;
  for (ConfigTable& t : table.tableArray("rule")) rules.push_back(readRule(t));
  return rules;
}

bool validProviderName(std::string_view name) {
  // The name is the site in SITES frames, /status and logs; ',' would read as an MX list.
  return !name.empty() && name.size() <= kMaxProviderName && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::vector<std::string> readMx(ConfigTable& table) {
  constexpr std::string_view kExpected =
      "a non-empty array of MX host names (\".example.com\" for a suffix, \"mx.example.com\" for one host)";
  std::vector<std::string> mx = table.stringArray("mx");
  if (mx.empty()) table.fail("mx", kExpected);
  for (std::string& host : mx) {
    host = lowerCase(host);
    if (!host.empty() && host.back() == '.') host.pop_back();
    bool bad = host.empty() || host == "." || std::any_of(host.begin(), host.end(), [](char c) {
                 return c == ',' || std::isspace(static_cast<unsigned char>(c));
               });
    if (bad) table.fail("mx", kExpected);
  }
  return mx;
}

ProviderRules readProvider(ConfigTable& table, const std::vector<ProviderRules>& before) {
  ProviderRules provider;
  provider.name = table.string("name", "");
  if (!validProviderName(provider.name)) {
    table.fail("name", "a provider name of 1 to 64 letters, digits, '-', '_' or '.'");
  }
  for (const ProviderRules& other : before) {
    if (other.name == provider.name) table.fail("name", "a name no other [[provider]] has");
  }
  provider.mx = readMx(table);
  provider.rules = readRules(table);
  return provider;
}

}  // namespace

bool PatternRule::matches(const std::string& subject, std::string_view lowered) const {
  bool may = literals.empty() || std::any_of(literals.begin(), literals.end(), [lowered](const std::string& l) {
               return lowered.find(l) != std::string_view::npos;
             });
  return may && std::regex_search(subject, pattern);
}

bool ProviderRules::hosts(std::string_view mx_host) const {
  return std::any_of(mx.begin(), mx.end(), [mx_host](const std::string& m) {
    if (m[0] != '.') return mx_host == m;
    return mx_host.size() > m.size() && mx_host.substr(mx_host.size() - m.size()) == m;
  });
}

const ProviderRules* ClassifierRules::provider(std::string_view name) const {
  for (const ProviderRules& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

ClassifierRules readClassifierRules(ConfigTable& root) {
  ClassifierRules rules;
  rules.generic = readRules(root);
  for (ConfigTable& t : root.tableArray("provider")) rules.providers.push_back(readProvider(t, rules.providers));
  return rules;
}

}  // namespace lbmail::shaping
