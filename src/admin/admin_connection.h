// One admin HTTP client connection: reads requests, answers them in order, enforces deadlines;
// over TLS when the server has a certificate (the connection moves ciphertext between the
// socket and a TlsSession, and everything else is as without it).
#pragma once

#include <uv.h>

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "lbmail/admin/admin_router.h"
#include "lbmail/admin/http_request_reader.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/metric.h"
#include "lbmail/core/buffer_list.h"
#include "lbmail/core/service_config.h"
#include "lbmail/tls/tls_session.h"

namespace lbmail {

class AdminConnection;

// What a connection may use of the server that owns it: the server hands this over rather
// than opening its private members to the connection.
struct AdminConnectionContext {
  uv_loop_t* loop;
  const AdminConfig& config;
  SSL_CTX* ssl_ctx;  // nullptr: plain HTTP
  const std::string& name;  // the server's, in log lines
  const AdminRouter& router;
  const bool& server_closing;  // once set, every answer closes its connection
  Counter& parse_pauses;
  Histogram& request_seconds;
  std::function<void(int status)> count_response;
  // Runs after the connection's last handle closed; deletes the connection.
  std::function<void(AdminConnection&)> closed;
};

class AdminConnection final : public HttpRequestSink {
 public:
  using Handle = std::list<std::unique_ptr<AdminConnection>>::iterator;

  explicit AdminConnection(AdminConnectionContext context);
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  // Accepts from the listener and starts reading; on failure the connection closes itself.
  void start(uv_stream_t* listener, Handle self);
  // Closes both handles; the server deletes this object once both close callbacks ran.
  void close();
  Handle handle() const { return self_; }
  // Waiting for a first or next request, with nothing started and nothing to send: the
  // server may close it to make room for a new connection.
  bool idle() const;

  // HttpRequestSink
  void onRequestStarted() override;
  bool onRequest(const HttpRequest& request) override;
  bool wantsPause() override;

 private:
  enum class State { kOpen, kLingering, kClosing };

  struct WriteRequest {
    uv_write_t req;
    // Not req->handle->data: that points at the closer once close() ran, and libuv still
    // calls back pending writes (UV_ECANCELED) then.
    AdminConnection* connection;
    std::vector<std::string> parts;  // plain HTTP
    BufferList records;               // TLS
  };

  static void onAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void onWrite(uv_write_t* req, int status);
  static void onShutdown(uv_shutdown_t* req, int status);
  static void onTimer(uv_timer_t* timer);

  void handleCiphertext(std::string_view bytes);
  void pumpTls();
  void peerFinished();
  void writeRecords();
  void startWrite(WriteRequest* write, const std::vector<uv_buf_t>& bufs);
  void handleBytes(std::string_view bytes);
  void resumeParsing();
  void flush();
  void finishAfterWrites();
  void armTimer(uint64_t ms);
  void applyBackpressure();

  AdminConnectionContext context_;
  Handle self_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_shutdown_t shutdown_req_;
  HttpRequestReader reader_;
  std::unique_ptr<tls::TlsSession> tls_;  // with HTTPS
  bool handshake_done_ = false;
  State state_ = State::kOpen;
  HandleCloser closer_;
  size_t writes_in_flight_ = 0;
  bool close_after_writes_ = false;  // no more requests are read: answer what is queued, then close
  bool peer_eof_ = false;            // the client half-closed; close once the answers are out
  bool reading_ = false;
  std::vector<std::string> pending_;  // responses produced by the current read, sent in one writev
  size_t pending_bytes_ = 0;
  std::string stash_;  // bytes of a read not yet parsed because parsing paused (at most one read)
  uint64_t request_started_ns_ = 0;
  char read_buf_[16 * 1024];
};

}  // namespace lbmail
