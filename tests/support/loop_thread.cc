// A libuv loop on a helper thread for tests.
#include "loop_thread.h"

#include <future>

namespace lbmail::test {

LoopThread::LoopThread() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &async_, onAsync);
  async_.data = this;
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
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

int LoopThread::stop() {
  call([this] { uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr); });
  thread_.join();
  stopped_ = true;
  return uv_loop_close(&loop_);
}

}  // namespace lbmail::test
