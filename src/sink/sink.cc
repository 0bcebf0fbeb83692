// The sink mode: listeners, sessions, per-client limits and accounting.
#include "sink.h"

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

// Distinct (client, domain, outcome) series kept apart; beyond it domains fold into "other".
constexpr size_t kMaxOutcomeSeries = 10000;

}  // namespace

Sink::Sink(uv_loop_t* loop, const SinkConfig& config, MetricsRegistry& metrics)
    : ModeService(loop, config.service, metrics),
      settings_(config.sink),
      rules_(config.sink.rules),
      open_connections_(metrics.gauge("lbmail_sink_connections", "SMTP connections open now.")),
      refused_connections_(metrics.counter("lbmail_sink_connections_refused_total",
                                           "Connections answered 421 at once (connection caps).")),
      buffered_bytes_(metrics.gauge("lbmail_sink_buffered_bytes",
                                    "Memory the SMTP connections hold now: replies queued for clients and "
                                    "receive buffers, kept message bodies included.")),
      body_bytes_(metrics.gauge("lbmail_sink_body_bytes",
                                "Message bodies kept in memory now (with message_dir), until written.")),
      bodies_refused_(metrics.counter("lbmail_sink_bodies_refused_total",
                                      "Messages answered 452 because max_body_memory was in use.")),
      tls_sessions_(metrics.counter("lbmail_sink_tls_sessions_total",
                                    "Connections that completed a TLS handshake after STARTTLS.")),
      tls_failures_(metrics.counter("lbmail_sink_tls_failures_total",
                                    "TLS handshakes after STARTTLS that failed or timed out.")),
      message_log_(loop, config.sink.message_log, config.sink.message_dir, config.sink.hostname,
                   [this](size_t n) { releaseBody(n); }) {}

Duration Sink::elapsed() const { return std::chrono::milliseconds(uv_now(loop_) - started_ms_); }

int Sink::onStart() {
  started_ms_ = uv_now(loop_);
  if (std::string err = refusal_log_.open(settings_.refusal_log); !err.empty()) {
    logError("sink.start_failed", {{"error", err}});
    return 1;
  }
  if (std::string err = message_log_.open(); !err.empty()) {
    logError("sink.start_failed", {{"error", err}});
    return 1;
  }
  if (!settings_.tls_certificate.empty()) {
    auto tls = SinkTlsContext::load(settings_.tls_certificate, settings_.tls_key);
    if (!tls) {
      logError("sink.start_failed", {{"error", tls.error()}});
      return 1;
    }
    tls_ = std::move(*tls);
  }
  for (const SocketAddress& addr : settings_.listen) {
    listeners_.push_back(std::make_unique<TcpListener>(loop_, "sink"));
    ++listeners_open_;
    if (int rc = listeners_.back()->listen(addr, [this](uv_stream_t* s) { onConnection(s); }); rc != 0) return rc;
  }
  logInfo("sink.ready", {{"listeners", listeners_.size()}, {"rules", rules_.size()}, {"starttls", tls_ != nullptr}});
  return 0;
}

void Sink::onConnection(uv_stream_t* listener) {
  ++connections_total_;
  sessions_.push_back(std::make_unique<SinkSession>(static_cast<SinkSessionOwner&>(*this), settings_.seed * 1'000'003 + connections_total_));
  SinkSession& session = *sessions_.back();
  session.start(listener, std::prev(sessions_.end()));
  open_connections_.set(static_cast<double>(sessions_.size()));
  if (session.clientHost().empty()) return;  // accept failed: closing itself
  uint32_t& from_client = connections_per_client_[session.clientHost()];
  ++from_client;
  const SinkRule& rule = this->rule(session.clientHost(), "");
  if (sessions_.size() > settings_.max_connections ||
      (rule.max_connections_per_client > 0 && from_client > rule.max_connections_per_client)) {
    refused_connections_.inc();
    limited(session.clientHost(), 421);
    session.refuse("Too many connections from your address");
    return;
  }
  session.greet();
}

void Sink::sessionClosed(SinkSession& session) {
  if (!session.clientHost().empty()) {
    auto it = connections_per_client_.find(session.clientHost());
    if (it != connections_per_client_.end() && --it->second == 0) connections_per_client_.erase(it);
  }
  sessions_.erase(session.handle());
  open_connections_.set(static_cast<double>(sessions_.size()));
  maybeFinishStop();
}

const SinkRule& Sink::rule(const std::string& client, std::string_view domain) const {
  return rules_.match(client, domain, elapsed());
}

uint64_t Sink::recordMessage(const smtp::ReceivedMessage& message, const SinkMessageOrigin& origin) {
  uint64_t number = ++message_number_;
  // The message file's copy is held until written: over budget for a moment at most by one
  // message, and new bodies are refused until the writes catch up.
  if (message_log_.keepsBodies()) {
    body_bytes_held_ += message.body.size();
    body_bytes_.set(static_cast<double>(body_bytes_held_));
  }
  message_log_.record(message, origin, number);
  return number;
}

bool Sink::reserveBody(size_t bytes) {
  if (body_bytes_held_ + bytes > settings_.max_body_memory) {
    bodies_refused_.inc();
    return false;
  }
  body_bytes_held_ += bytes;
  body_bytes_.set(static_cast<double>(body_bytes_held_));
  return true;
}

void Sink::releaseBody(size_t bytes) {
  body_bytes_held_ -= std::min<uint64_t>(bytes, body_bytes_held_);
  body_bytes_.set(static_cast<double>(body_bytes_held_));
}

void Sink::bufferedChanged(int64_t delta) {
  buffered_ += delta;
  buffered_bytes_.set(static_cast<double>(buffered_));
}

bool Sink::admitMessage(const std::string& client, double max_rate) {
  client_stats_.mail(client, second());
  if (max_rate <= 0) return true;
  // A one-second window per client: simple, and what "messages per second" means to a tester.
  RateWindow& w = rates_[client];
  uint64_t now = uv_now(loop_);
  if (now - w.window_start_ms >= 1000) {
    w.window_start_ms = now;
    w.count = 0;
  }
  if (w.count + 1 > max_rate) return false;
  w.count += 1;
  return true;
}

void Sink::limited(const std::string& client, int code) {
  client_stats_.limited(client, code, second());
  std::pair<std::string, int> key{limited_.size() >= kMaxOutcomeSeries ? std::string("other") : client, code};
  auto it = limited_.find(key);
  if (it == limited_.end()) {
    Counter& c = metrics_.counter("lbmail_sink_limited_total",
                                  "Limit replies given (max_message_rate, max_messages_per_connection, "
                                  "max_connections_per_client), by client address and reply code.",
                                  {{"client", key.first}, {"code", std::to_string(code)}});
    it = limited_.emplace(std::move(key), &c).first;
  }
  it->second->inc();
}

void Sink::count(const std::string& client, std::string_view domain, std::string_view outcome) {
  if (outcome == "accepted") client_stats_.accepted(client);
  OutcomeKey key{client, std::string(domain), std::string(outcome)};
  auto it = outcomes_.find(key);
  if (it == outcomes_.end()) {
    if (outcomes_.size() >= kMaxOutcomeSeries) key.domain = "other";
    it = outcomes_.find(key);
    if (it == outcomes_.end()) {
      Counter& c = metrics_.counter("lbmail_sink_recipients_total",
                                    "Recipients by client address, recipient domain and outcome.",
                                    {{"client", key.client}, {"domain", key.domain}, {"outcome", key.outcome}});
      it = outcomes_.emplace(key, &c).first;
    }
  }
  it->second->inc();
}

void Sink::onStop(std::function<void()> done) {
  stopping_ = true;
  client_stats_.log();
  refusal_log_.close();
  stop_done_ = std::move(done);
  for (auto& l : listeners_) {
    l->close([this] {
      --listeners_open_;
      maybeFinishStop();
    });
  }
  for (auto& s : sessions_) s->close();
  maybeFinishStop();
}

void Sink::maybeFinishStop() {
  if (!stopping_ || listeners_open_ > 0 || !sessions_.empty() || !stop_done_) return;
  auto done = std::move(stop_done_);
  stop_done_ = nullptr;
  message_log_.close(std::move(done));
}

void Sink::writeModeStatus(JsonWriter& w) {
  w.key("sink").beginObject();
  w.key("listen").beginArray();
  for (auto& l : listeners_) w.value(l->boundAddress().toString());
  w.endArray();
  w.field("connections", sessions_.size());
  w.field("connections_total", connections_total_);
  w.field("messages_accepted", message_number_);
  w.field("starttls", tls_ != nullptr);
  w.field("tls_sessions", tls_sessions_.value());
  w.key("recipients").beginArray();
  for (const auto& [key, counter] : outcomes_) {
    w.beginObject().field("client", key.client).field("domain", key.domain).field("outcome", key.outcome);
    w.field("count", counter->value()).endObject();
  }
  w.endArray();
  w.endObject();
}

}  // namespace lbmail
