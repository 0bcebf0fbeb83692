// Child processes for tests: spawn with pipes, wait on output events, stop by pid.
#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

extern char** environ;

namespace lbmail::test {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::optional<std::string>& input) {
  // A child that exits before reading its input must fail the test with its status, not kill
  // the test process with SIGPIPE.
  static const bool kIgnoreSigpipe = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)kIgnoreSigpipe;
  int out[2], err[2], in[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  ::close(in[0]);
  if (input && pid_ > 0) {
    size_t off = 0;
    while (off < input->size()) {
      ssize_t n = ::write(in[1], input->data() + off, input->size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
  ::close(in[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool ChildProcess::pump(std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return true;
  int rc = ::poll(fds, 2, static_cast<int>(left.count()));
  if (rc < 0 && errno != EINTR) return false;
  int* fd_ptrs[2] = {&out_fd_, &err_fd_};
  std::string* sinks[2] = {&out_, &err_};
  for (int i = 0; i < 2; ++i) {
    if (*fd_ptrs[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[8192];
    ssize_t n = ::read(*fd_ptrs[i], buf, sizeof buf);
    if (n > 0) {
      sinks[i]->append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      ::close(*fd_ptrs[i]);
      *fd_ptrs[i] = -1;
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

std::optional<std::string> ChildProcess::waitForStderrLine(const std::string& needle, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    size_t nl;
    while ((nl = err_.find('\n', err_scanned_)) != std::string::npos) {
      std::string line = err_.substr(err_scanned_, nl - err_scanned_);
      err_scanned_ = nl + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    if (std::chrono::steady_clock::now() >= deadline || !pump(deadline)) return std::nullopt;
  }
}

void ChildProcess::signal(int signum) {
  if (pid_ > 0) ::kill(pid_, signum);
}

int ChildProcess::wait(std::chrono::seconds bound, struct rusage* usage) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline && pump(deadline)) {
  }
  if (out_fd_ >= 0 || err_fd_ >= 0) ::kill(pid_, SIGKILL);  // outlived the bound
  int status = 0;
  struct rusage ignored {};
  wait4(pid_, &status, 0, usage ? usage : &ignored);
  pid_ = -1;
  return status;
}

int exitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

double cpuSeconds(const struct rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace lbmail::test
