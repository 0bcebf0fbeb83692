// The admin HTTP endpoint every mode serves on its loop: /healthz, /metrics and /status.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>

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

  AdminServer(uv_loop_t* loop, const AdminConfig& config, MetricsRegistry& metrics, StatusWriter status,
              HealthCheck healthy);
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  ~AdminServer();

  // Binds and listens; returns 0 or a libuv error code.
  int start();
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

  void onConnection(uv_stream_t* listener);
  void addRoutes();
  bool evictOldestIdle();
  void countResponse(int status);
  void connectionClosed(AdminConnection& connection);
  void maybeFinishClose();

  uv_loop_t* loop_;
  AdminConfig config_;
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
};

}  // namespace lbmail
