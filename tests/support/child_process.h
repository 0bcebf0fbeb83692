// Starts a real program for a test with pipes on its output, and stops it by pid.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lbmail::test {

class ChildProcess {
 public:
  // argv[0] is the program's path. stdin is /dev/null unless input is given.
  explicit ChildProcess(const std::vector<std::string>& argv, const std::optional<std::string>& input = {});
  ~ChildProcess();  // kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  // Reads stderr until a line containing needle arrives; returns that line (nullopt on EOF or
  // when the safety bound passes).
  std::optional<std::string> waitForStderrLine(const std::string& needle,
                                               std::chrono::seconds bound = std::chrono::seconds(20));
  void signal(int signum);
  // Reads both pipes to their end, reaps the child and returns its wait status; the child is
  // killed when it outlives the bound.
  int wait(std::chrono::seconds bound = std::chrono::seconds(20), struct rusage* usage = nullptr);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads whatever is ready on the pipes, waiting at most until deadline. False at EOF of both.
  bool pump(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  size_t err_scanned_ = 0;
  std::string out_;
  std::string err_;
};

// Exit code when the child exited normally, else 128 + signal.
int exitCode(int wait_status);

// User plus system time in a wait4 or getrusage result, in seconds.
double cpuSeconds(const struct rusage& usage);

}  // namespace lbmail::test
