// CPU-heavy jobs (DKIM signatures) on a fixed set of threads of our own, each job's completion
// run on the loop. libuv's thread pool is not used: it is shared with file system work and sized
// once per process, where the signer threads are sized by configuration and must not wait
// behind a disk. Jobs run in any order and in parallel; each keeps what it needs alive itself.
#pragma once

#include <uv.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "lbmail/core/handle_closer.h"

namespace lbmail {

class WorkerPool {
 public:
  // threads: at least 1. Threads start at once.
  WorkerPool(uv_loop_t* loop, unsigned threads);
  // close() must have been called: its async handle belongs to the loop until then.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // work runs on a pool thread; done, when given, on the loop after it. After close() a post
  // is dropped.
  void post(std::function<void()> work, std::function<void()> done = {});
  // Jobs posted and not yet completed on the loop: the queue depth the metrics show.
  size_t depth() const { return depth_; }
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  // Jobs not yet started complete at once without their work: their done runs on the loop
  // soon, as if the work had found nothing to do (a drain that has run out of time).
  void cancelWaiting();
  // Jobs not yet started are dropped and their done never runs; running jobs finish (a job is
  // one signature: a millisecond or two), the threads are joined, and done runs on the loop.
  void close(std::function<void()> done);

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };
  void runThread();
  static void onCompleted(uv_async_t* async);

  uv_loop_t* loop_;
  uv_async_t completed_async_;
  HandleCloser closer_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> waiting_;    // guarded by mutex_
  std::deque<Job> completed_;  // guarded by mutex_: work done, done not yet run
  bool stopping_ = false;      // guarded by mutex_
  size_t depth_ = 0;           // loop thread only
  bool closed_ = false;        // loop thread only: close() was called
};

}  // namespace lbmail
