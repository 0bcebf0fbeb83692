// A listening TCP socket shared by the admin endpoint and the link acceptor.
#include "lbmail/core/tcp_listener.h"

#include <cassert>

#include "lbmail/core/handle_closer.h"
#include "lbmail/core/log.h"

namespace lbmail {

TcpListener::TcpListener(uv_loop_t* loop, std::string what) : loop_(loop), what_(std::move(what)) {}

TcpListener::~TcpListener() { assert(!open_ && "close() the listener and run the loop first"); }

int TcpListener::listen(const SocketAddress& address, OnConnection on_connection) {
  assert(!open_);
  requested_ = address;
  on_connection_ = std::move(on_connection);
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  uv_check_init(loop_, &turn_end_);
  turn_end_.data = this;
  uv_check_start(&turn_end_, onTurnEnd);
  uv_unref(asHandle(&turn_end_));  // the listener alone keeps the loop running, not its check
  handles_open_ = 2;
  open_ = true;
  int rc = uv_tcp_bind(&tcp_, address.sockaddrPtr(), 0);
  if (rc == 0) rc = uv_listen(asStream(&tcp_), 511, onConnection);
  if (rc != 0) {
    logError(what_ + ".listen_failed", {{"addr", address.toString()}, {"error", uv_strerror(rc)}});
    return rc;
  }
  listening_ = true;
  logInfo(what_ + ".listening", {{"addr", boundAddress().toString()}});
  return 0;
}

SocketAddress TcpListener::boundAddress() const {
  if (!listening_) return requested_;
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len);
  return SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
}

void TcpListener::onConnection(uv_stream_t* server, int status) {
  auto* self = static_cast<TcpListener*>(server->data);
  if (status < 0) {
    logWarn(self->what_ + ".accept_failed", {{"error", uv_strerror(status)}});
    return;
  }
  if (self->closing_) return;
  // libuv accepts until the backlog is empty, and a client that reconnects the moment it is
  // closed can keep it from ever emptying. Not accepting now makes libuv stop watching the
  // socket until the next turn accepts again (uv_accept restarts it).
  if (self->accepted_this_turn_ >= kMaxAcceptsPerTurn) {
    self->deferred_ = true;
    return;
  }
  ++self->accepted_this_turn_;
  self->on_connection_(server);
}

void TcpListener::onTurnEnd(uv_check_t* check) {
  auto* self = static_cast<TcpListener*>(check->data);
  self->accepted_this_turn_ = 0;
  if (!self->deferred_ || self->closing_) return;
  self->deferred_ = false;
  ++self->accepted_this_turn_;
  self->on_connection_(asStream(&self->tcp_));
}

void TcpListener::close(std::function<void()> done) {
  close_done_.add(std::move(done));
  if (!open_) {
    close_done_.runAll();
    return;
  }
  if (closing_) return;
  closing_ = true;
  uv_close(asHandle(&tcp_), onClosed);
  uv_close(asHandle(&turn_end_), onClosed);
}

void TcpListener::onClosed(uv_handle_t* handle) {
  auto* self = static_cast<TcpListener*>(handle->data);
  if (--self->handles_open_ > 0) return;
  self->open_ = false;
  self->listening_ = false;
  self->closing_ = false;
  self->close_done_.runAll();
}

}  // namespace lbmail
