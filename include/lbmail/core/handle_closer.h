// Closes the libuv handles one object owns and says when the last of them has closed.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <initializer_list>

namespace lbmail {

// Every owner of several handles needs the same countdown: uv_close on each, and the owner's
// memory may go only after the last close callback (the uv_close contract in libuv's handle
// docs). From close() on, each handle's data points at this closer, not at its owner: libuv
// calls nothing on a closing handle but its close callback, so the owner loses nothing.
class HandleCloser {
 public:
  HandleCloser() = default;
  HandleCloser(const HandleCloser&) = delete;
  HandleCloser& operator=(const HandleCloser&) = delete;

  // Closes each handle (initialised, not yet closing) and runs done after the last close
  // callback. done may destroy the owner and this closer with it. A second call does nothing.
  void close(std::initializer_list<uv_handle_t*> handles, std::function<void()> done);
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

}  // namespace lbmail
