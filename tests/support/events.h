// State shared between a test's thread and the loop threads it drives: updated under a lock,
// waited on with a condition and a safety bound, so tests await events instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace lbmail::test {

class Events {
 public:
  template <typename Fn>
  void update(Fn&& fn) {
    {
      std::lock_guard lock(mutex_);
      fn();
    }
    cv_.notify_all();
  }
  template <typename Pred>
  bool waitFor(Pred&& pred, std::chrono::seconds bound = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, pred);
  }
  // Runs fn (assertions on handler state) while the loops cannot change that state.
  template <typename Fn>
  void locked(Fn&& fn) {
    std::lock_guard lock(mutex_);
    fn();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace lbmail::test
