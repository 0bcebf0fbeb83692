// Closes the libuv handles one object owns and says when the last of them has closed.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <span>
#include <utility>

namespace lbmail {

// Every owner of several handles needs the same countdown: uv_close on each, and the owner's
// memory may go only after the last close callback (the uv_close contract in libuv's handle
// docs). From close() on, each handle's data points at this closer, not at its owner: libuv
// calls no handle callback on a closing handle but its close callback. It does still call back
// the requests pending on a closing stream (writes, shutdown, connect: UV_ECANCELED), so those
// find their owner through the request, never through req->handle->data.
class HandleCloser {
 public:
  HandleCloser() = default;
  HandleCloser(const HandleCloser&) = delete;
  HandleCloser& operator=(const HandleCloser&) = delete;

  // Closes each handle (initialised, not yet closing) and runs done after the last close
  // callback, or at once when there are none. done may destroy the owner and this closer with
  // it. A second call does nothing.
  void close(std::initializer_list<uv_handle_t*> handles, std::function<void()> done) {
    close(std::span<uv_handle_t* const>(handles.begin(), handles.size()), std::move(done));
  }
  // The same for a set of handles known only at run time.
  void close(std::span<uv_handle_t* const> handles, std::function<void()> done);
  // True from the first close() on.
  bool started() const { return started_; }

 private:
  static void onClosed(uv_handle_t* handle);

  size_t open_ = 0;
  bool started_ = false;
  std::function<void()> done_;
};

// uv_close takes a uv_handle_t*; every handle type begins with one.
template <typename Handle>
uv_handle_t* asHandle(Handle* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}

// The stream calls (uv_read_start, uv_write, uv_shutdown) take a uv_stream_t*; a TCP handle begins with one.
inline uv_stream_t* asStream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }

}  // namespace lbmail
