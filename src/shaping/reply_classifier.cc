// The reply classifier: pattern rules, then RFC 3463 and RFC 5321 codes (docs/shaping.md), and
// the site of a domain from its MX host names.
#include "lbmail/shaping/reply_classifier.h"

#include <algorithm>
#include <cctype>

#include "classifier_codes.h"
#include "classifier_prefilter.h"
#include "classifier_rules.h"
#include "lbmail/core/ascii_case.h"
#include "lbmail/core/config_document.h"

namespace lbmail::shaping {

namespace {

// RFC 5321 section 4.5.3.1.5 bounds a reply line at 512 octets; text past that is rarely
// meaningful and only makes a regular expression slower.
constexpr size_t kMaxSubject = 512;
// SITES frames carry a site in at most 255 octets (docs/protocol.md).
constexpr size_t kMaxSiteLength = 255;

// "<code> <enhanced> <text>" on one line, cut to kMaxSubject octets: the lines of a multi-line
// reply are joined by spaces so that a phrase split over two lines still matches.
std::string patternSubject(const smtp::SmtpReply& reply) {
  std::string s = std::to_string(reply.code);
  s += ' ';
  if (!reply.enhanced.empty()) {
    s.append(reply.enhanced, 0, kMaxSubject);
    s += ' ';
  }
  if (s.size() < kMaxSubject) s.append(reply.text, 0, kMaxSubject - s.size());
  if (s.size() > kMaxSubject) s.resize(kMaxSubject);
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

const PatternRule* firstMatch(const std::vector<PatternRule>& rules, const std::string& subject,
                              std::string_view lowered) {
  for (const PatternRule& rule : rules) {
    if (rule.matches(subject, lowered)) return &rule;
  }
  return nullptr;
}

std::string normalHost(std::string_view host) {
  std::string out(host);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

Expected<ClassifierRules, std::string> readDocument(Expected<ConfigDocument, std::string> doc) {
  if (!doc) return unexpected(doc.error());
  try {
    ConfigTable root = doc->root();
    ClassifierRules rules = readClassifierRules(root);
    doc->rejectUnknownKeys();
    return rules;
  } catch (const ConfigError& e) {
    return unexpected(std::string(e.what()));
  } catch (const std::exception& e) {
    return unexpected(doc->fileName() + ": cannot load: " + e.what());
  }
}

}  // namespace

ReplyClassifier::ReplyClassifier() : rules_(std::make_unique<ClassifierRules>()) {}
ReplyClassifier::~ReplyClassifier() = default;
ReplyClassifier::ReplyClassifier(ReplyClassifier&&) noexcept = default;
ReplyClassifier& ReplyClassifier::operator=(ReplyClassifier&&) noexcept = default;

ReplyClassifier::ReplyClassifier(std::unique_ptr<ClassifierRules> rules) : rules_(std::move(rules)) {}

Expected<ReplyClassifier, std::string> ReplyClassifier::load(const std::string& rules_file) {
  auto rules = readDocument(ConfigDocument::parseFile(rules_file));
  if (!rules) return unexpected(rules.error());
  return ReplyClassifier(std::make_unique<ClassifierRules>(std::move(*rules)));
}

Expected<ReplyClassifier, std::string> ReplyClassifier::parse(std::string_view toml_text, const std::string& name) {
  auto rules = readDocument(ConfigDocument::parseString(toml_text, name));
  if (!rules) return unexpected(rules.error());
  return ReplyClassifier(std::make_unique<ClassifierRules>(std::move(*rules)));
}

ReplyClass ReplyClassifier::classify(const smtp::SmtpReply& reply, std::string_view provider) const {
  // No reply at all (connection failed, timed out) or a code outside RFC 5321's range.
  if (reply.code < 200 || reply.code > 599) return ReplyClass::kProtocol;
  if (reply.code < 300) return ReplyClass::kDelivered;
  if (reply.code < 400) return ReplyClass::kProtocol;  // 3xx where a final reply was due
  std::string subject = patternSubject(reply);
  std::string lowered = asciiLowercase(subject);
  const ProviderRules* p = provider.empty() ? nullptr : rules_->provider(provider);
  const PatternRule* rule = p ? firstMatch(p->rules, subject, lowered) : nullptr;
  if (!rule) rule = firstMatch(rules_->generic, subject, lowered);
  if (rule) return rule->reply_class;
  if (std::optional<ReplyClass> c = classFromEnhancedCode(reply.code, reply.enhanced)) return *c;
  return classFromBasicCode(reply.code);
}

std::string ReplyClassifier::providerOf(const std::vector<std::string>& mx_hosts) const {
  for (const ProviderRules& p : rules_->providers) {
    for (const std::string& host : mx_hosts) {
      if (p.hosts(normalHost(host))) return p.name;
    }
  }
  return {};
}

std::string ReplyClassifier::siteOf(const std::vector<std::string>& mx_hosts) const {
  std::string provider = providerOf(mx_hosts);
  if (!provider.empty()) return provider;
  std::vector<std::string> names;
  names.reserve(mx_hosts.size());
  for (const std::string& host : mx_hosts) names.push_back(normalHost(host));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string site;
  for (const std::string& name : names) {
    if (name.empty()) continue;
    if (!site.empty()) site += ',';
    site += name;
  }
  // A site names a set of hosts; a set too long for the wire is cut (two such sets that agree
  // on their first 255 octets share limits, which errs on the careful side).
  if (site.size() > kMaxSiteLength) site.resize(kMaxSiteLength);
  return site;
}

size_t ReplyClassifier::patternCount() const {
  size_t n = rules_->generic.size();
  for (const ProviderRules& p : rules_->providers) n += p.rules.size();
  return n;
}

}  // namespace lbmail::shaping
