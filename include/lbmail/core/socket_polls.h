// The uv_poll handles for the sockets a C library opens and closes on its own (c-ares,
// libcurl): one per socket, started, changed and stopped as the library's socket callback says.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <unordered_map>
#include <vector>

namespace lbmail {

class SocketPolls {
 public:
  // A socket is ready: events as uv_poll gives them, status < 0 on a poll error (the library
  // then reads or writes the socket to learn what it was).
  using Ready = std::function<void(int fd, int status, int events)>;

  SocketPolls(uv_loop_t* loop, Ready ready) : loop_(loop), ready_(std::move(ready)) {}
  SocketPolls(const SocketPolls&) = delete;
  SocketPolls& operator=(const SocketPolls&) = delete;
  ~SocketPolls();

  // Watches fd for events (UV_READABLE | UV_WRITABLE), making its poll the first time. 0, or
  // libuv's error when fd cannot be polled.
  int watch(int fd, int events);
  // The library is about to close fd: its poll stops while the descriptor is still valid and
  // frees itself once closed, touching nothing else.
  void forget(int fd);
  // For the owner's close(), once the library can name no more sockets: stops every poll and
  // appends its handle to handles, for the owner's HandleCloser; release() after they closed.
  void stopAll(std::vector<uv_handle_t*>& handles);
  void release();

 private:
  struct Poll {
    uv_poll_t handle;
    int fd;
    SocketPolls* owner;
  };

  static void onPoll(uv_poll_t* handle, int status, int events) noexcept;

  uv_loop_t* loop_;
  Ready ready_;
  std::unordered_map<int, Poll*> polls_;
};

}  // namespace lbmail
