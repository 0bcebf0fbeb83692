// Runs a libuv loop on its own thread so a test can drive servers on it with blocking clients.
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lbmail::test {

class LoopThread {
 public:
  LoopThread();
  ~LoopThread();

  uv_loop_t* loop() { return &loop_; }
  // Runs fn on the loop thread and waits until it has returned.
  void call(const std::function<void()>& fn);
  // Lets the loop finish (every other handle must be closing) and joins the thread.
  // Returns uv_loop_close's result: 0 when nothing was left open. A handle left open would
  // keep the loop running for ever: after 10 s the loop is stopped, the open handles are
  // printed, and the result is UV_EBUSY, so the test fails instead of hanging.
  int stop();

 private:
  static void onAsync(uv_async_t* async);
  static void onWatchdog(uv_timer_t* timer);

  uv_loop_t loop_;
  uv_async_t async_;
  uv_timer_t watchdog_;
  bool watchdog_fired_ = false;
  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace lbmail::test
