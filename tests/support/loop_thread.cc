// A libuv loop on a helper thread for tests.
#include "loop_thread.h"

#include <cstdio>
#include <future>

namespace lbmail::test {

LoopThread::LoopThread() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &async_, onAsync);
  async_.data = this;
  uv_timer_init(&loop_, &watchdog_);
  watchdog_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog_));
  thread_ = std::thread([this] {
    uv_run(&loop_, UV_RUN_DEFAULT);
    if (watchdog_fired_) return;  // a handle is still open: leave it for uv_loop_close to report
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
}

LoopThread::~LoopThread() {
  if (!stopped_) stop();
}

void LoopThread::onAsync(uv_async_t* async) {
  auto* self = static_cast<LoopThread*>(async->data);
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(self->mutex_);
    work.swap(self->queue_);
  }
  for (auto& fn : work) fn();
}

void LoopThread::call(const std::function<void()>& fn) {
  std::promise<void> done;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back([&] {
      fn();
      done.set_value();
    });
  }
  uv_async_send(&async_);
  done.get_future().wait();
}

void LoopThread::onWatchdog(uv_timer_t* timer) {
  auto* self = static_cast<LoopThread*>(timer->data);
  self->watchdog_fired_ = true;
  uv_walk(
      timer->loop,
      [](uv_handle_t* h, void* arg) {
        if (h != arg && !uv_is_closing(h)) std::fprintf(stderr, "LoopThread: handle left open: %s\n", uv_handle_type_name(h->type));
      },
      timer);
  uv_stop(timer->loop);
}

int LoopThread::stop() {
  call([this] {
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_timer_start(&watchdog_, onWatchdog, 10'000, 0);  // unreferenced: does not keep the loop alive
  });
  thread_.join();
  stopped_ = true;
  return uv_loop_close(&loop_);
}

}  // namespace lbmail::test
