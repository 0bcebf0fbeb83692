// Reading the sink's configuration.
#include "sink_config.h"

#include "lbmail/core/config_path.h"

namespace lbmail {
namespace {

LatencySpec readLatency(ConfigTable& t, std::string_view key) {
  std::optional<std::string> text = t.optionalString(key);
  if (!text) return LatencySpec();
  std::optional<LatencySpec> spec = LatencySpec::parse(*text);
  if (!spec) {
    t.fail(key, "a latency up to 24h: \"20ms\", a range \"10ms..30ms\", or an exponential mean \"exp:20ms\"");
  }
  return *spec;
}

SinkReply readReply(ConfigTable& t, std::string_view key, int klass, const SinkReply& fallback) {
  std::optional<std::string> text = t.optionalString(key);
  if (!text) return fallback;
  std::optional<SinkReply> reply = SinkReply::parse(*text, klass);
  if (!reply) {
    t.fail(key, "one reply line without CR or LF: a " + std::to_string(klass) +
                    "xx code, an optional enhanced code and text, like \"" + std::to_string(klass) +
                    (klass == 5 ? "54 5.7.1 Service unavailable\"" : "21 4.7.28 Rate limited\""));
  }
  return *reply;
}

SinkRule readRule(ConfigTable& t) {
  using namespace std::chrono_literals;
  SinkRule r;
  if (auto client = t.optionalString("client")) {
    if (!SocketAddress::parse(*client + ":0") && !SocketAddress::parse("[" + *client + "]:0")) {
      t.fail("client", "an IP address like \"127.0.0.2\"");
    }
    r.client = *client;
  }
  r.domain = t.string("domain", "");
  r.after = t.duration("after", 0s, 0s, 24h * 365);
  r.greeting_latency = readLatency(t, "greeting_latency");
  r.reply_latency = readLatency(t, "reply_latency");
  r.data_latency = readLatency(t, "data_latency");
  r.defer_rcpt = t.real("defer_rcpt", 0, 0, 1);
  r.bounce_rcpt = t.real("bounce_rcpt", 0, 0, 1);
  r.defer_data = t.real("defer_data", 0, 0, 1);
  r.bounce_data = t.real("bounce_data", 0, 0, 1);
  r.drop_in_data = t.real("drop_in_data", 0, 0, 1);
  if (r.defer_rcpt + r.bounce_rcpt > 1) t.fail("bounce_rcpt", "defer_rcpt + bounce_rcpt at most 1");
  if (r.defer_data + r.bounce_data + r.drop_in_data > 1) {
    t.fail("drop_in_data", "defer_data + bounce_data + drop_in_data at most 1");
  }
  r.max_messages_per_connection = static_cast<uint32_t>(t.integer("max_messages_per_connection", 0, 0, 1'000'000));
  r.max_message_rate = t.real("max_message_rate", 0, 0, 1e9);
  r.max_connections_per_client = static_cast<uint32_t>(t.integer("max_connections_per_client", 0, 0, 1'000'000));
  r.bounce_reply = readReply(t, "bounce_reply", 5, r.bounce_reply);
  if (t.has("rate_reply")) r.rate_reply = readReply(t, "rate_reply", 4, SinkReply{});
  return r;
}

SinkSettings readSink(ConfigTable t, const std::string& config_file) {
  using namespace std::chrono_literals;
  SinkSettings s;
  s.listen = t.addressList("listen", {*SocketAddress::parse("127.0.0.1:2525")});
  s.hostname = t.string("hostname", s.hostname);
  if (s.hostname.empty() || s.hostname.find_first_of(" \t\r\n") != std::string::npos) {
    t.fail("hostname", "a host name without blanks");
  }
  s.max_message_size = t.size("max_message_size", s.max_message_size, 1024, 1ull << 34);
  s.max_recipients = static_cast<uint32_t>(t.integer("max_recipients", s.max_recipients, 1, 100000));
  s.command_timeout = t.duration("command_timeout", s.command_timeout, 10ms, 1h);
  s.data_timeout = t.duration("data_timeout", s.data_timeout, 10ms, 1h);
  s.max_connections = static_cast<uint32_t>(t.integer("max_connections", s.max_connections, 1, 1'000'000));
  s.max_body_memory = t.size("max_body_memory", std::max(s.max_body_memory, s.max_message_size), 1024, 1ull << 40);
  if (s.max_body_memory < s.max_message_size) t.fail("max_body_memory", "a size at least max_message_size");
  s.seed = static_cast<uint64_t>(t.integer("seed", 1, 0, INT64_MAX));
  s.message_log = t.string("message_log", "");
  s.message_dir = t.string("message_dir", "");
  s.refusal_log = t.string("refusal_log", "");
  s.tls_certificate = resolveConfigPath(config_file, t.string("tls_certificate", ""));
  s.tls_key = resolveConfigPath(config_file, t.string("tls_key", ""));
  if (s.tls_certificate.empty() != s.tls_key.empty()) {
    t.fail(s.tls_key.empty() ? "tls_key" : "tls_certificate", "tls_certificate and tls_key set together, or neither");
  }
  for (ConfigTable& rule : t.tableArray("rule")) s.rules.push_back(readRule(rule));
  return s;
}

}  // namespace

Expected<SinkConfig, std::string> loadSinkConfig(const std::string& file) {
  return loadConfigFile<SinkConfig>(file, [&file](ConfigTable& root) {
    SinkConfig c;
    c.service = readServiceConfig(root, Mode::kSink);
    c.sink = readSink(root.table("sink"), file);
    return c;
  });
}

}  // namespace lbmail
