// HandleCloser: done runs once, after the last of its handles has closed, on a real loop.
#include "lbmail/core/handle_closer.h"

#include <gtest/gtest.h>

#include <memory>

namespace lbmail {
namespace {

struct Owner {
  uv_timer_t timer;
  uv_idle_t idle;
  uv_async_t async;
  HandleCloser closer;
};

TEST(HandleCloserTest, DoneRunsOnceAfterEveryHandleClosed) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  auto owner = std::make_unique<Owner>();
  uv_timer_init(&loop, &owner->timer);
  uv_idle_init(&loop, &owner->idle);
  uv_async_init(&loop, &owner->async, nullptr);
  int done = 0;
  owner->closer.close({asHandle(&owner->timer), asHandle(&owner->idle), asHandle(&owner->async)}, [&] {
    ++done;
    // Every handle is closed by now, so freeing the owner (closer included) is allowed.
    EXPECT_TRUE(uv_is_closing(asHandle(&owner->timer)));
    owner.reset();
  });
  EXPECT_TRUE(owner->closer.started());
  EXPECT_EQ(done, 0);  // close callbacks run on the next loop iteration, not inside close()
  owner->closer.close({asHandle(&owner->timer)}, [&] { done += 100; });  // ignored
  ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(owner, nullptr);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(HandleCloserTest, NoHandlesRunsDoneAtOnce) {
  HandleCloser closer;
  int done = 0;
  closer.close({}, [&] { ++done; });
  EXPECT_TRUE(closer.started());
  EXPECT_EQ(done, 1);
  closer.close({}, [&] { ++done; });  // a second call does nothing
  EXPECT_EQ(done, 1);
}

}  // namespace
}  // namespace lbmail
