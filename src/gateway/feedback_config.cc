// Reading and checking [feedback].
#include "feedback_config.h"

#include <algorithm>
#include <cctype>

#include "lbmail/core/ascii_case.h"
#include "lbmail/core/config_path.h"

namespace lbmail {

namespace {

std::optional<SocketAddress> optionalAddress(ConfigTable& t, std::string_view key) {
  std::string text = t.string(key, "");
  if (text.empty()) return std::nullopt;
  auto address = SocketAddress::parse(text);
  if (!address) t.fail(key, "an address such as \"0.0.0.0:25\", or \"\" for none");
  return address;
}

void readListener(ConfigTable& t, FeedbackSettings& f) {
  using namespace std::chrono_literals;
  f.listen = optionalAddress(t, "listen");
  f.bounce_domains = t.stringArray("bounce_domains");
  for (std::string& d : f.bounce_domains) {
    d = asciiLowercase(d);
    if (d.empty() || d.find('@') != std::string::npos) t.fail("bounce_domains", "domain names such as \"bounce.example.com\"");
  }
  for (const std::string& a : t.stringArray("feedback_addresses")) {
    if (a.find('@') == std::string::npos) t.fail("feedback_addresses", "mail addresses such as \"fbl@example.com\"");
    f.feedback_addresses.push_back(asciiLowercase(a));
  }
  f.token_max_age = t.duration("token_max_age", f.token_max_age, 24h, 24h * 3650);
  f.max_message_size = t.size("max_message_size", f.max_message_size, 1024, 1ull << 30);
  f.max_connections = static_cast<uint32_t>(t.integer("max_connections", f.max_connections, 1, 100000));
  f.max_kept_bytes = t.size("max_kept_bytes", f.max_kept_bytes, f.max_message_size, 1ull << 40);
  f.idle_timeout = t.duration("idle_timeout", f.idle_timeout, 100ms, 1h);
  if (f.listen && f.bounce_domains.empty() && f.feedback_addresses.empty()) {
    t.fail("listen", "bounce_domains or feedback_addresses beside it (the listener would refuse every recipient)");
  }
}

}  // namespace

FeedbackSettings readFeedbackConfig(ConfigTable t, const std::string& config_file, const std::string& node_name) {
  FeedbackSettings f;
  f.key_file = resolveConfigPath(config_file, t.string("key_file", ""));
  f.key_id = static_cast<uint8_t>(t.integer("key_id", f.key_id, 0, 255));
  f.hostname = t.string("hostname", node_name);
  readListener(t, f);
  f.spool = resolveConfigPath(config_file, t.string("spool", ""));
  f.spool_max_events = static_cast<uint64_t>(t.integer("spool_max_events", 100000, 1, 100'000'000));
  f.unsubscribe_listen = optionalAddress(t, "unsubscribe_listen");
  f.unsubscribe_tls_cert = resolveConfigPath(config_file, t.string("unsubscribe_tls_cert", ""));
  f.unsubscribe_tls_key = resolveConfigPath(config_file, t.string("unsubscribe_tls_key", ""));
  bool listens = f.listen || f.unsubscribe_listen;
  if (f.key_file.empty()) {
    if (listens) t.fail("key_file", "the feedback key's path (required with listen or unsubscribe_listen)");
    return f;  // the feature is off
  }
  if (listens && f.spool.empty()) t.fail("spool", "the path of the events file (required with listen or unsubscribe_listen)");
  if (f.unsubscribe_tls_cert.empty() != f.unsubscribe_tls_key.empty()) {
    t.fail(f.unsubscribe_tls_cert.empty() ? "unsubscribe_tls_cert" : "unsubscribe_tls_key",
           "both unsubscribe_tls_cert and unsubscribe_tls_key, or neither");
  }
  auto key = feedback::FeedbackKey::load(f.key_file, f.key_id);
  if (!key) t.fail("key_file", "a readable feedback key: " + key.error());
  f.keys.push_back(std::move(*key));
  f.enabled = true;
  return f;
}

}  // namespace lbmail
