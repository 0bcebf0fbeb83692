// Threads take jobs from one queue; completions go back through one async handle, which libuv
// coalesces: one wake-up may carry many completions.
#include "lbmail/core/worker_pool.h"

#include <cassert>

namespace lbmail {

WorkerPool::WorkerPool(uv_loop_t* loop, unsigned threads) : loop_(loop) {
  uv_async_init(loop_, &completed_async_, onCompleted);
  completed_async_.data = this;
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { runThread(); });
}

WorkerPool::~WorkerPool() {
  assert(closed_);  // the async handle is the loop's until close() has run
  if (threads_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::post(std::function<void()> work, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    waiting_.push_back({std::move(work), std::move(done)});
  }
  ++depth_;
  wake_.notify_one();
}

void WorkerPool::runThread() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    job.work();
    job.work = nullptr;  // what the work captured goes here, off the loop
    {
      std::lock_guard lock(mutex_);
      completed_.push_back(std::move(job));
    }
    uv_async_send(&completed_async_);
  }
}

void WorkerPool::onCompleted(uv_async_t* async) {
  auto* self = static_cast<WorkerPool*>(async->data);
  std::deque<Job> done;
  {
    std::lock_guard lock(self->mutex_);
    done.swap(self->completed_);
  }
  for (Job& job : done) {
    // A done may close the pool (the owner shuts down): what is left is dropped, as promised.
    if (self->closed_) return;
    --self->depth_;
    if (job.done) job.done();
  }
}

void WorkerPool::cancelWaiting() {
  {
    std::lock_guard lock(mutex_);
    for (Job& job : waiting_) {
      job.work = nullptr;
      completed_.push_back(std::move(job));
    }
    waiting_.clear();
  }
  uv_async_send(&completed_async_);
}

void WorkerPool::close(std::function<void()> done) {
  closed_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    waiting_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  completed_.clear();  // the threads are gone: no lock needed, and nothing more arrives
  depth_ = 0;
  closer_.close({asHandle(&completed_async_)}, std::move(done));
}

}  // namespace lbmail
