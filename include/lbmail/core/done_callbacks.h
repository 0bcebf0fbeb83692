// Callbacks waiting on one asynchronous end (a close, a drain). Every caller's callback runs,
// once, however many callers asked.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace lbmail {

class DoneCallbacks {
 public:
  void add(std::function<void()> fn) {
    if (fn) fns_.push_back(std::move(fn));
  }
  bool empty() const { return fns_.empty(); }
  // Runs and forgets them all. The list is taken first, so a callback may destroy the owner.
  void runAll() {
    std::vector<std::function<void()>> fns;
    fns.swap(fns_);
    for (auto& fn : fns) fn();
  }

 private:
  std::vector<std::function<void()>> fns_;
};

}  // namespace lbmail
