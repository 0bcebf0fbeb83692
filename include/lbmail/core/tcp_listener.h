// A listening TCP socket on a libuv loop: bind, listen, report where, close once. It takes at
// most kMaxAcceptsPerTurn connections per loop turn, so that a flood of connects can never keep
// the loop from its timers and other sockets.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/socket_address.h"

namespace lbmail {

class TcpListener {
 public:
  static constexpr uint32_t kMaxAcceptsPerTurn = 64;

  // Called for each pending connection; accept it from server with uv_accept.
  using OnConnection = std::function<void(uv_stream_t* server)>;

  // what names the listener in log events: "<what>.listening", "<what>.listen_failed".
  TcpListener(uv_loop_t* loop, std::string what);
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  ~TcpListener();

  // Binds and listens (port 0 picks a free port); returns 0 or a libuv error code. After a
  // failure close() must still be called.
  int listen(const SocketAddress& address, OnConnection on_connection);
  // The address actually bound, or the one asked for when not listening.
  SocketAddress boundAddress() const;
  // Stops listening; done runs once the handle is closed (at once if it never opened).
  void close(std::function<void()> done);
  bool isOpen() const { return open_; }

 private:
  static void onConnection(uv_stream_t* server, int status);
  static void onTurnEnd(uv_check_t* check);
  static void onClosed(uv_handle_t* handle);

  uv_loop_t* loop_;
  std::string what_;
  uv_tcp_t tcp_;
  uv_check_t turn_end_;  // after each poll phase: the next turn's accepts may begin
  uint32_t accepted_this_turn_ = 0;
  bool deferred_ = false;  // a connection waits in the backlog for the next turn
  int handles_open_ = 0;
  SocketAddress requested_;
  OnConnection on_connection_;
  bool open_ = false;
  bool listening_ = false;
  bool closing_ = false;
  DoneCallbacks close_done_;
};

}  // namespace lbmail
