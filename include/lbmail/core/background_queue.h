// Blocking work (disk, SQLite) kept off the event loop: jobs run one at a time, in the order
// posted, on libuv's thread pool; each job's completion runs on the loop. One at a time is the
// point: the jobs share state (a database connection) that needs no lock that way.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>

#include "lbmail/core/done_callbacks.h"

namespace lbmail {

class BackgroundQueue {
 public:
  explicit BackgroundQueue(uv_loop_t* loop) : loop_(loop) {}
  BackgroundQueue(const BackgroundQueue&) = delete;
  BackgroundQueue& operator=(const BackgroundQueue&) = delete;

  // work runs off the loop; done, when given, on the loop after it.
  void post(std::function<void()> work, std::function<void()> done = {});
  // done runs on the loop once every job posted so far has finished (at once when idle).
  void whenIdle(std::function<void()> done);

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> done;
  };
  void runNext();
  static void onWork(uv_work_t* req);
  static void onAfterWork(uv_work_t* req, int status);

  uv_loop_t* loop_;
  std::deque<Job> jobs_;  // waiting; only the loop thread touches it
  Job current_;           // the running job's, touched by the pool thread while running_
  bool running_ = false;
  uv_work_t req_{};
  DoneCallbacks idle_;
};

}  // namespace lbmail
