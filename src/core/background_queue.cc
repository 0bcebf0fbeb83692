// One job at a time on the thread pool.
#include "lbmail/core/background_queue.h"

namespace lbmail {

void BackgroundQueue::post(std::function<void()> work, std::function<void()> done) {
  jobs_.push_back({std::move(work), std::move(done)});
  if (!running_) runNext();
}

void BackgroundQueue::whenIdle(std::function<void()> done) {
  idle_.add(std::move(done));
  if (!running_ && jobs_.empty()) idle_.runAll();
}

void BackgroundQueue::runNext() {
  if (jobs_.empty()) {
    idle_.runAll();
    return;
  }
  current_ = std::move(jobs_.front());
  jobs_.pop_front();
  running_ = true;
  req_.data = this;
  uv_queue_work(loop_, &req_, onWork, onAfterWork);
}

void BackgroundQueue::onWork(uv_work_t* req) {
  auto* self = static_cast<BackgroundQueue*>(req->data);
  self->current_.work();
}

void BackgroundQueue::onAfterWork(uv_work_t* req, int) {
  auto* self = static_cast<BackgroundQueue*>(req->data);
  // The job is over before its completion runs, which may post more.
  std::function<void()> done = std::move(self->current_.done);
  self->current_ = {};
  self->running_ = false;
  if (done) done();
  if (!self->running_) self->runNext();
}

}  // namespace lbmail
