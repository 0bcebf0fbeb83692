// The simulation's child processes: started with uv_spawn, their output going to a log file
// each, readiness awaited as a line in that log, exits reported on the loop, and every one
// stopped by pid (SIGTERM, then SIGKILL after a grace period) when the simulation ends.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "lbmail/core/done_callbacks.h"

namespace lbmail {

class ChildProcesses {
 public:
  using ExitFn = std::function<void(int exit_code)>;  // 128 + signal when killed

  explicit ChildProcesses(uv_loop_t* loop);
  ~ChildProcesses();
  ChildProcesses(const ChildProcesses&) = delete;
  ChildProcesses& operator=(const ChildProcesses&) = delete;

  // Starts argv with stdout and stderr appended to log_file; returns its id (0: failed, logged).
  uint64_t start(const std::string& name, const std::vector<std::string>& argv, const std::string& log_file,
                 ExitFn on_exit = {});
  // ready(true) once a line containing needle appears in the child's log; ready(false) when the
  // child exits first or bound passes.
  void whenLogged(uint64_t id, std::string needle, std::chrono::milliseconds bound, std::function<void(bool)> ready);
  // SIGTERM now, SIGKILL after grace; done once it has exited.
  void stop(uint64_t id, std::chrono::milliseconds grace, std::function<void()> done);
  // Stops every child, then closes every handle; done when all are gone.
  void stopAll(std::chrono::milliseconds grace, std::function<void()> done);

 private:
  struct Child;
  Child* find(uint64_t id) const;
  static void onExit(uv_process_t* p, int64_t status, int signal);
  static void onPoll(uv_timer_t* t);
  void poll();
  void reap(Child* c);

  uv_loop_t* loop_;
  std::list<std::unique_ptr<Child>> children_;
  uint64_t next_id_ = 1;
  uv_timer_t poll_timer_;
  bool closing_ = false;
  DoneCallbacks all_done_;
};

}  // namespace lbmail
