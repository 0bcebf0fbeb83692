#include "lbmail/core/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

namespace lbmail {
namespace {

TEST(WorkerPool, RunsWorkOnItsThreadsAndCompletionsOnTheLoop) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  constexpr int kJobs = 200;
  {
    WorkerPool pool(&loop, 3);
    EXPECT_EQ(pool.threads(), 3u);
    std::thread::id loop_thread = std::this_thread::get_id();
    std::mutex m;
    std::set<std::thread::id> workers;
    std::vector<int> results(kJobs, 0);
    int completed = 0;
    bool completions_on_loop = true;
    for (int i = 0; i < kJobs; ++i) {
      pool.post(
          [&, i] {
            results[static_cast<size_t>(i)] = i * i;  // each job writes only its own slot
            std::lock_guard lock(m);
            workers.insert(std::this_thread::get_id());
          },
          [&, i] {
            completions_on_loop &= std::this_thread::get_id() == loop_thread;
            EXPECT_EQ(results[static_cast<size_t>(i)], i * i);  // the work happened before
            if (++completed == kJobs) pool.close([&loop] { uv_stop(&loop); });
          });
    }
    EXPECT_EQ(pool.depth(), static_cast<size_t>(kJobs));
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(completed, kJobs);
    EXPECT_TRUE(completions_on_loop);
    EXPECT_EQ(pool.depth(), 0u);
    EXPECT_FALSE(workers.count(loop_thread));
    EXPECT_GE(workers.size(), 1u);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(WorkerPool, CloseDropsWhatHasNotCompletedOnTheLoopAndLaterPosts) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    WorkerPool pool(&loop, 1);
    std::promise<void> started, release;
    std::shared_future<void> released = release.get_future().share();
    int dones = 0;
    pool.post([&started, released] { started.set_value(), released.wait(); }, [&dones] { ++dones; });
    for (int i = 0; i < 5; ++i) pool.post([] {}, [&dones] { ++dones; });
    started.get_future().wait();
    // The running job is let go while close() waits for it; no completion reaches the loop.
    std::thread releaser([&release] { release.set_value(); });
    bool closed = false;
    pool.close([&closed] { closed = true; });
    releaser.join();
    pool.post([] {}, [&dones] { ++dones; });
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_TRUE(closed);
    EXPECT_EQ(dones, 0);
    EXPECT_EQ(pool.depth(), 0u);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(WorkerPool, CancelledJobsCompleteOnTheLoopWithoutTheirWork) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    WorkerPool pool(&loop, 1);
    std::promise<void> started, release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> worked{0};
    int dones = 0;
    auto done = [&] {
      if (++dones == 5) pool.close([] {});
    };
    pool.post([&started, released] { started.set_value(), released.wait(); }, done);
    for (int i = 0; i < 4; ++i) pool.post([&worked] { ++worked; }, done);
    started.get_future().wait();  // the one thread is busy: the other four wait
    pool.cancelWaiting();
    release.set_value();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(worked.load(), 0);
    EXPECT_EQ(dones, 5);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(WorkerPool, ACloseInsideACompletionDropsTheCompletionsAfterIt) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    WorkerPool pool(&loop, 1);
    std::atomic<int> worked{0};
    int dones = 0;
    for (int i = 0; i < 3; ++i) {
      pool.post([&worked] { ++worked; }, [&] {
        ++dones;
        pool.close([] {});
      });
    }
    // All three are done before the loop first runs, so one wake-up carries them all.
    while (worked.load() < 3) std::this_thread::yield();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(dones, 1);
    EXPECT_EQ(pool.depth(), 0u);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace lbmail
