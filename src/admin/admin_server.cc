// The admin HTTP endpoint: listener, connection set, and the built-in routes.
#include "lbmail/admin/admin_server.h"

#include <cassert>

#include "admin_connection.h"
#include "lbmail/core/log.h"
#include "lbmail/tls/certificate_files.h"

namespace lbmail {

AdminServer::AdminServer(uv_loop_t* loop, const AdminConfig& config, MetricsRegistry& metrics,
                         StatusWriter status, HealthCheck healthy)
    : AdminServer(loop, config, metrics, std::move(status), std::move(healthy), Options{}) {}

AdminServer::AdminServer(uv_loop_t* loop, const AdminConfig& config, MetricsRegistry& metrics,
                         StatusWriter status, HealthCheck healthy, Options options)
    : loop_(loop),
      config_(config),
      options_(std::move(options)),
      registry_(metrics),
      metrics_(makeMetrics(metrics, options_)),
      status_(std::move(status)),
      healthy_(std::move(healthy)),
      listener_(loop, options_.name),
      start_ms_(uv_now(loop)) {
  if (options_.builtin_routes) addRoutes();
}

AdminServer::Metrics AdminServer::makeMetrics(MetricsRegistry& registry, const Options& options) {
  const std::string& p = options.metric_prefix;
  const std::string& noun = options.metric_noun;
  return Metrics{
      registry.gauge(p + "_connections", noun + " connections open now."),
      registry.counter(p + "_connections_accepted_total", noun + " connections accepted."),
      registry.counter(p + "_connections_refused_total",
                       noun + " connections closed at once because max_connections were open and none of them "
                              "was idle."),
      registry.counter(p + "_connections_evicted_total",
                       "Idle " + noun + " connections closed to make room for a new one at max_connections."),
      registry.counter(p + "_parse_pauses_total",
                       "Times a connection stopped reading because its answers waited for a client that does "
                       "not read them."),
      registry.histogram(p + "_request_duration_seconds",
                         "Time from the first byte of a request to its answer (" + noun + ").",
                         Histogram::latencySecondsBounds())};
}

AdminServer::~AdminServer() {
  assert(!listener_.isOpen() && connections_.empty() && "close() the server and run the loop first");
  SSL_CTX_free(ssl_ctx_);
}

void AdminServer::addRoutes() {
  router_.add("/healthz", [this](const HttpRequest&, AdminResponse& r) {
    bool ok = healthy_();
    r.status = ok ? 200 : 503;
    r.body = ok ? "ok\n" : "draining\n";
  });
  router_.add("/metrics", [this](const HttpRequest&, AdminResponse& r) {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    registry_.renderPrometheus(r.body);
  });
  router_.add("/status", [this](const HttpRequest&, AdminResponse& r) {
    r.content_type = "application/json";
    JsonWriter w(r.body);
    w.beginObject();
    status_(w);
    w.key("admin").beginObject();
    w.field("listen", boundAddress().toString());
    w.field("connections", connections_.size());
    w.endObject();
    w.field("uptime_seconds", static_cast<double>(uv_now(loop_) - start_ms_) / 1000.0);
    w.endObject();
    r.body.push_back('\n');
  });
}

int AdminServer::start() {
  if (tls()) {
    start_error_ = loadCertificate();
    if (!start_error_.empty()) return UV_EINVAL;
  }
  return listener_.listen(config_.listen, [this](uv_stream_t* server) { onConnection(server); });
}

std::string AdminServer::loadCertificate() {
  if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
    return "HTTPS needs both a certificate file and a key file";
  }
  SSL_CTX_free(ssl_ctx_);
  ssl_ctx_ = SSL_CTX_new(TLS_server_method());
  if (ssl_ctx_ == nullptr) return tls::openSslError("cannot make a TLS context");
  SSL_CTX_set_min_proto_version(ssl_ctx_, TLS1_2_VERSION);
  // Each connection is used once or twice by a browser or a mail provider: no session cache.
  SSL_CTX_set_session_cache_mode(ssl_ctx_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ssl_ctx_, 0);
  return tls::useCertificateAndKey(ssl_ctx_, options_.tls_cert_file, options_.tls_key_file);
}

SocketAddress AdminServer::boundAddress() const { return listener_.boundAddress(); }

void AdminServer::onConnection(uv_stream_t* listener) {
  AdminConnectionContext context{loop_,
                                 config_,
                                 ssl_ctx_,
                                 options_.name,
                                 router_,
                                 closing_,
                                 metrics_.parse_pauses,
                                 metrics_.request_seconds,
                                 [this](int status) { countResponse(status); },
                                 [this](AdminConnection& c) { connectionClosed(c); }};
  connections_.push_front(std::make_unique<AdminConnection>(std::move(context)));
  AdminConnection& conn = *connections_.front();
  conn.start(listener, connections_.begin());
  metrics_.connections.set(static_cast<double>(connections_.size()));
  if (connections_.size() > config_.max_connections && !evictOldestIdle()) {
    metrics_.refused.inc();
    logWarn("admin.too_many_connections", {{"server", options_.name}, {"max", config_.max_connections}});
    conn.close();
    return;
  }
  metrics_.accepted.inc();
}

// Full: the oldest connection with nothing in progress makes room, so that silent or idle
// clients cannot lock out a health check. Connections are kept newest first.
bool AdminServer::evictOldestIdle() {
  for (auto it = connections_.rbegin(); it != connections_.rend(); ++it) {
    if (it->get() == connections_.front().get() || !(*it)->idle()) continue;
    (*it)->close();
    metrics_.evicted.inc();
    return true;
  }
  return false;
}

size_t AdminServer::idleConnectionCount() const {
  size_t n = 0;
  for (const auto& c : connections_) n += c->idle() ? 1 : 0;
  return n;
}

void AdminServer::countResponse(int status) {
  registry_
      .counter(options_.metric_prefix + "_responses_total", options_.metric_noun + " answers by status code.",
               {{"code", std::to_string(status)}})
      .inc();
}

void AdminServer::connectionClosed(AdminConnection& connection) {
  connections_.erase(connection.handle());
  metrics_.connections.set(static_cast<double>(connections_.size()));
  maybeFinishClose();
}

void AdminServer::close(std::function<void()> done) {
  close_done_.add(std::move(done));
  if (!closing_) {
    closing_ = true;
    listener_.close([this] { maybeFinishClose(); });
    for (auto& connection : connections_) connection->close();
  }
  maybeFinishClose();
}

void AdminServer::maybeFinishClose() {
  if (!closing_ || listener_.isOpen() || !connections_.empty()) return;
  close_done_.runAll();
}

}  // namespace lbmail
