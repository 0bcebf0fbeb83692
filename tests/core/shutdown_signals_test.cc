// Tests for graceful shutdown on the first signal and immediate exit on the second.
#include "lbmail/core/shutdown_signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lbmail {
namespace {

TEST(ShutdownSignals, FirstSignalAsksForShutdownOnce) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int calls = 0;
  int seen = 0;
  ShutdownSignals signals(&loop, [&](int signum) {
    ++calls;
    seen = signum;
    signals.close();
  });
  EXPECT_FALSE(signals.requested());
  raise(SIGTERM);  // libuv's handler queues it; the loop delivers it on its next turn
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, SIGTERM);
  EXPECT_TRUE(signals.requested());
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(ShutdownSignals, SecondSignalExitsAtOnce) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    // Work in flight that would keep a graceful drain going for a minute.
    uv_timer_t work;
    uv_timer_init(&loop, &work);
    uv_timer_start(&work, [](uv_timer_t*) { _exit(0); }, 60'000, 0);
    // The operator loses patience and signals again while the drain runs.
    ShutdownSignals signals(&loop, [](int) { raise(SIGINT); });
    raise(SIGTERM);
    uv_run(&loop, UV_RUN_DEFAULT);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
}

}  // namespace
}  // namespace lbmail
