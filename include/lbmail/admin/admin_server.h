// The admin HTTP endpoint every mode serves on its loop: /healthz, /metrics and /status. The
// same server, with Options, carries other small endpoints (the gateway's one-click
// unsubscribe): without the built-in routes, with metric names of their own, over TLS.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "lbmail/admin/admin_router.h"
#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/core/service_config.h"
#include "lbmail/core/socket_address.h"
#include "lbmail/core/tcp_listener.h"

namespace lbmail {

class AdminConnection;

class AdminServer {
 public:
  // Writes the mode's fields into the /status object (the server adds its own).
  using StatusWriter = std::function<void(JsonWriter&)>;
  // True while the process serves normally; false makes /healthz answer 503 (draining).
  using HealthCheck = std::function<bool()>;

  struct Options {
    // /healthz, /metrics and /status (status and healthy are unused without them).
    bool builtin_routes = true;
    // Every metric of the server is named <metric_prefix>_<what>, so that two servers can
    // share one registry.
    std::string metric_prefix = "lbmail_admin";
    std::string metric_noun = "Admin HTTP";  // what the metrics' help texts call the server
    std::string name = "admin";              // in log lines
    // PEM files: with both set the server speaks only HTTPS (TLS 1.2 and later).
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  AdminServer(uv_loop_t* loop, const AdminConfig& config, MetricsRegistry& metrics, StatusWriter status,
              HealthCheck healthy);
  AdminServer(uv_loop_t* loop, const AdminConfig& config, MetricsRegistry& metrics, StatusWriter status,
              HealthCheck healthy, Options options);
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  ~AdminServer();

  // Loads the certificate (with TLS), binds and listens; returns 0 or a libuv error code
  // (UV_EINVAL for a certificate or key that cannot be used: startError() says why).
  int start();
  const std::string& startError() const { return start_error_; }
  bool tls() const { return !options_.tls_cert_file.empty() || !options_.tls_key_file.empty(); }
  SocketAddress boundAddress() const;

  // Stops accepting and closes every connection; done runs once all handles are closed.
  void close(std::function<void()> done);

  AdminRouter& router() { return router_; }
  size_t connectionCount() const { return connections_.size(); }
  // Connections with no request in progress and nothing to send (see AdminConnection::idle).
  size_t idleConnectionCount() const;

 private:
  struct Metrics {
    Gauge& connections;
    Counter& accepted;
    Counter& refused;
    Counter& evicted;
    Counter& parse_pauses;
    Histogram& request_seconds;
  };

  static Metrics makeMetrics(MetricsRegistry& registry, const Options& options);
  std::string loadCertificate();
  void onConnection(uv_stream_t* listener);
  void addRoutes();
  bool evictOldestIdle();
  void countResponse(int status);
  void connectionClosed(AdminConnection& connection);
  void maybeFinishClose();

  uv_loop_t* loop_;
  AdminConfig config_;
  Options options_;
  MetricsRegistry& registry_;
  Metrics metrics_;
  StatusWriter status_;
  HealthCheck healthy_;
  AdminRouter router_;
  TcpListener listener_;
  bool closing_ = false;
  DoneCallbacks close_done_;
  std::list<std::unique_ptr<AdminConnection>> connections_;
  uint64_t start_ms_;
  SSL_CTX* ssl_ctx_ = nullptr;  // with TLS, once started
  std::string start_error_;
};

}  // namespace lbmail
