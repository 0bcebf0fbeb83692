// Maps every SMTP reply to a ReplyClass: first the provider's pattern rules (regular
// expressions over "code enhanced text", from the rules file shipped in
// configs/shaping-rules.toml and the user's own), then the generic rules of that file, then
// RFC 3463's enhanced status code, then the basic code (RFC 5321 section 4.2.1). Also names a
// recipient domain's receiving site from its MX host set ("MX rollup": every domain hosted by
// one provider shares the site, and so its limits).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/expected.h"
#include "lbmail/shaping/reply_class.h"
#include "lbmail/smtp/smtp_reply.h"

namespace lbmail::shaping {

struct ClassifierRules;  // compiled patterns, private to the classifier

class ReplyClassifier {
 public:
  // Only the RFC 3463 / RFC 5321 code rules, no patterns and no providers.
  ReplyClassifier();
  ~ReplyClassifier();
  ReplyClassifier(ReplyClassifier&&) noexcept;
  ReplyClassifier& operator=(ReplyClassifier&&) noexcept;

  // Reads a rules file (format: configs/shaping-rules.toml). Errors name file, line and key; a
  // pattern that is not a valid regular expression is an error, never ignored.
  static Expected<ReplyClassifier, std::string> load(const std::string& rules_file);
  static Expected<ReplyClassifier, std::string> parse(std::string_view toml_text, const std::string& name);

  // reply.code 0 (no reply: the connection failed or timed out) is kProtocol. provider: the
  // site's provider name ("" when none) whose rules apply before the generic ones. Matches
  // at most the first 512 octets of the text.
  ReplyClass classify(const smtp::SmtpReply& reply, std::string_view provider = "") const;

  // The provider whose MX suffixes match one of mx_hosts ("" when none), e.g. "gmail" for
  // "alt1.gmail-smtp-in.l.google.com".
  std::string providerOf(const std::vector<std::string>& mx_hosts) const;
  // The site of a domain: its provider's name when it has one, else its MX host names, lower
  // case, sorted, without duplicates, joined by ','; a static route (no MX names) is site
  // "route:<address>", given by the caller as the only host.
  std::string siteOf(const std::vector<std::string>& mx_hosts) const;

  size_t patternCount() const;

 private:
  explicit ReplyClassifier(std::unique_ptr<ClassifierRules> rules);

  std::unique_ptr<ClassifierRules> rules_;
};

}  // namespace lbmail::shaping
