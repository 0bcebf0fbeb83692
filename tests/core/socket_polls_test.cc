// SocketPolls: a poll per socket as a library names them, forgotten before the socket closes,
// all closed with the owner's other handles.
#include "lbmail/core/socket_polls.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "lbmail/core/handle_closer.h"

namespace lbmail {
namespace {

class SocketPollsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a_), 0);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b_), 0);
  }
  void TearDown() override {
    for (int fd : {a_[0], a_[1], b_[0], b_[1]}) ::close(fd);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  uv_loop_t loop_;
  int a_[2] = {-1, -1};
  int b_[2] = {-1, -1};
};

TEST_F(SocketPollsTest, AReadySocketIsReportedUntilForgotten) {
  std::vector<std::pair<int, int>> ready;
  SocketPolls polls(&loop_, [&](int fd, int status, int events) {
    EXPECT_EQ(status, 0);
    ready.emplace_back(fd, events);
  });
  ASSERT_EQ(polls.watch(a_[0], UV_READABLE), 0);
  ASSERT_EQ(polls.watch(b_[0], UV_READABLE), 0);
  ASSERT_EQ(::write(a_[1], "x", 1), 1);
  uv_run(&loop_, UV_RUN_ONCE);
  EXPECT_EQ(ready, (std::vector<std::pair<int, int>>{{a_[0], UV_READABLE}}));
  // Changing the events of a watched socket keeps its one poll.
  ASSERT_EQ(polls.watch(b_[0], UV_READABLE | UV_WRITABLE), 0);
  polls.forget(a_[0]);
  ready.clear();
  uv_run(&loop_, UV_RUN_ONCE);
  EXPECT_EQ(ready, (std::vector<std::pair<int, int>>{{b_[0], UV_WRITABLE}}));
  std::vector<uv_handle_t*> handles;
  polls.stopAll(handles);
  EXPECT_EQ(handles.size(), 1u);
  HandleCloser closer;
  bool closed = false;
  closer.close(handles, [&] {
    polls.release();
    closed = true;
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_TRUE(closed);
}

TEST_F(SocketPollsTest, ADescriptorThatCannotBePolledIsAnError) {
  SocketPolls polls(&loop_, [](int, int, int) {});
  int fd = ::dup(a_[0]);
  ::close(fd);
  EXPECT_NE(polls.watch(fd, UV_READABLE), 0);
  std::vector<uv_handle_t*> handles;
  polls.stopAll(handles);
  EXPECT_TRUE(handles.empty());
}

}  // namespace
}  // namespace lbmail
