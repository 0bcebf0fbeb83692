// The sink mode: a fast receiving SMTP server with scripted latency and failures.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lbmail/core/mode_service.h"
#include "lbmail/core/tcp_listener.h"
#include "sink_client_stats.h"
#include "sink_config.h"
#include "sink_message_log.h"
#include "sink_refusal_log.h"
#include "sink_session.h"
#include "sink_session_owner.h"
#include "sink_tls_context.h"

namespace lbmail {

class Sink final : public ModeService, private SinkSessionOwner {
 public:
  Sink(uv_loop_t* loop, const SinkConfig& config, MetricsRegistry& metrics);

 protected:
  int onStart() override;
  void onStop(std::function<void()> done) override;
  void writeModeStatus(JsonWriter& w) override;

 private:
  struct RateWindow {
    uint64_t window_start_ms = 0;
    double count = 0;
  };
  struct OutcomeKey {
    std::string client;
    std::string domain;
    std::string outcome;
    auto operator<=>(const OutcomeKey&) const = default;
  };

  // SinkSessionOwner
  uv_loop_t* loop() const override { return loop_; }
  const SinkSettings& settings() const override { return settings_; }
  const SinkRule& rule(const std::string& client, std::string_view domain) const override;
  void count(const std::string& client, std::string_view domain, std::string_view outcome) override;
  bool admitMessage(const std::string& client, double max_rate) override;
  void limited(const std::string& client, int code) override;
  void refused(const std::string& client, std::string_view recipient, const SinkReply& reply) override {
    refusal_log_.record(unixNow(), client, recipient, reply);
  }
  uint64_t recordMessage(const smtp::ReceivedMessage& message, const SinkMessageOrigin& origin) override;
  const SinkTlsContext* tlsContext() const override { return tls_.get(); }
  void tlsHandshakeDone(bool established) override { (established ? tls_sessions_ : tls_failures_).inc(); }
  bool keepsBodies() const override { return message_log_.keepsBodies(); }
  bool reserveBody(size_t bytes) override;
  void releaseBody(size_t bytes) override;
  void bufferedChanged(int64_t delta) override;
  uv_buf_t readBuffer() override { return uv_buf_init(read_buf_.get(), kReadBufferSize); }
  void sessionClosed(SinkSession& session) override;

  Duration elapsed() const;
  uint64_t second() const { return (uv_now(loop_) - started_ms_) / 1000; }
  void onConnection(uv_stream_t* listener);
  void maybeFinishStop();

  static constexpr unsigned kReadBufferSize = 64 * 1024;

  SinkSettings settings_;
  SinkRules rules_;
  uint64_t started_ms_ = 0;
  std::vector<std::unique_ptr<TcpListener>> listeners_;
  std::list<std::unique_ptr<SinkSession>> sessions_;
  std::map<std::string, uint32_t> connections_per_client_;
  std::map<std::string, RateWindow> rates_;
  std::map<OutcomeKey, Counter*> outcomes_;
  std::map<std::pair<std::string, int>, Counter*> limited_;
  SinkClientStats client_stats_;
  SinkRefusalLog refusal_log_;
  uint64_t connections_total_ = 0;
  uint64_t message_number_ = 0;
  Gauge& open_connections_;
  Counter& refused_connections_;
  Gauge& buffered_bytes_;   // sessions' queued replies and protocol buffers, kept bodies included
  Gauge& body_bytes_;       // kept bodies, in sessions and in message files being written
  Counter& bodies_refused_;
  Counter& tls_sessions_;
  Counter& tls_failures_;
  std::unique_ptr<SinkTlsContext> tls_;
  uint64_t body_bytes_held_ = 0;
  int64_t buffered_ = 0;
  std::unique_ptr<char[]> read_buf_ = std::make_unique<char[]>(kReadBufferSize);
  SinkMessageLog message_log_;
  bool stopping_ = false;
  size_t listeners_open_ = 0;
  std::function<void()> stop_done_;
};

}  // namespace lbmail
