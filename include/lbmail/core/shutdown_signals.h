// SIGINT/SIGTERM on the loop: the first asks for a graceful shutdown, a second exits at once.
#pragma once

#include <uv.h>

#include <functional>

namespace lbmail {

class ShutdownSignals {
 public:
  ShutdownSignals(uv_loop_t* loop, std::function<void(int signum)> on_first_signal);
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;
  ~ShutdownSignals();

  // Releases the signal handles; the object must live until the loop has run their close
  // callbacks (uv_run returning is enough).
  void close();
  bool requested() const { return requested_; }

 private:
  static void onSignal(uv_signal_t* handle, int signum);

  uv_signal_t sigint_;
  uv_signal_t sigterm_;
  std::function<void(int)> on_first_signal_;
  bool requested_ = false;
  bool closed_ = false;
};

}  // namespace lbmail
