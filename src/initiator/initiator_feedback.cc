// Reading [feedback].
#include "initiator_feedback.h"

#include "lbmail/core/ascii_case.h"
#include "lbmail/core/config_path.h"
#include "lbmail/core/mailbox.h"

namespace lbmail {
namespace {

using namespace std::chrono_literals;

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// An absolute http(s) URL with a host and no trailing slash (the token follows a "/"), and
// nothing a header or a template would have to escape.
bool goodBaseUrl(std::string_view url) {
  std::string_view rest;
  if (startsWith(url, "https://")) {
    rest = url.substr(8);
  } else if (startsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest.front() == '/' || url.back() == '/') return false;
  for (char c : url) {
    if (c <= ' ' || c > '~' || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' || c == '?' || c == '#') {
      return false;
    }
  }
  return true;
}

}  // namespace

InitiatorFeedback readInitiatorFeedback(ConfigTable t, const std::string& config_file) {
  InitiatorFeedback f;
  std::string key = t.string("key_file", "");
  if (!key.empty()) f.key_file = resolveConfigPath(config_file, key);
  f.key_id = static_cast<uint8_t>(t.integer("key_id", f.key_id, 0, 255));
  f.bounce_domain = asciiLowercase(t.string("bounce_domain", ""));
  f.bounce_local = t.string("bounce_local", f.bounce_local);
  f.unsubscribe_url = t.string("unsubscribe_url", "");
  f.soft_bounce_limit = static_cast<uint32_t>(t.integer("soft_bounce_limit", f.soft_bounce_limit, 1, 1000));
  f.soft_bounce_window = t.duration("soft_bounce_window", f.soft_bounce_window, 1s, 24h * 365);
  f.bounce_warn = t.real("bounce_warn", f.bounce_warn, 0, 1);
  f.bounce_alarm = t.real("bounce_alarm", f.bounce_alarm, 0, 1);
  f.complaint_warn = t.real("complaint_warn", f.complaint_warn, 0, 1);
  f.complaint_alarm = t.real("complaint_alarm", f.complaint_alarm, 0, 1);
  if (!f.bounce_domain.empty()) {
    if (f.key_file.empty()) t.fail("key_file", "the token key (bounce_domain needs it to sign VERP addresses)");
    if (!validMailbox(f.bounce_local + "+x@" + f.bounce_domain)) {
      t.fail("bounce_domain", "a domain name that makes, with bounce_local, a valid address");
    }
  }
  if (!f.unsubscribe_url.empty()) {
    if (f.key_file.empty()) t.fail("key_file", "the token key (unsubscribe_url needs it to sign its links)");
    if (!goodBaseUrl(f.unsubscribe_url)) {
      t.fail("unsubscribe_url",
             "an absolute http:// or https:// base URL without a trailing slash, query or fragment "
             "(\"https://unsubscribe.example.com/u\")");
    }
  }
  if (f.bounce_alarm < f.bounce_warn) t.fail("bounce_alarm", "a rate not below bounce_warn");
  if (f.complaint_alarm < f.complaint_warn) t.fail("complaint_alarm", "a rate not below complaint_warn");
  return f;
}

std::string defaultListUnsubscribe(const InitiatorFeedback& f) {
  std::string out = "<" + f.unsubscribe_url + "/{{" + kUnsubscribeTokenField + "}}>";
  if (!f.bounce_domain.empty()) {
    out += ", <mailto:" + f.bounce_local + "+{{" + kUnsubscribeTokenField + "}}@" + f.bounce_domain + ">";
  }
  return out;
}

}  // namespace lbmail
