// One uv_poll per socket a C library names (libuv's poll handle docs: a poll must stop before
// its descriptor is closed).
#include "lbmail/core/socket_polls.h"

#include <cassert>

#include "lbmail/core/handle_closer.h"

namespace lbmail {

SocketPolls::~SocketPolls() { assert(polls_.empty() && "stopAll() and release() before destruction"); }

int SocketPolls::watch(int fd, int events) {
  auto it = polls_.find(fd);
  Poll* poll = nullptr;
  if (it != polls_.end()) {
    poll = it->second;
  } else {
    poll = new Poll{{}, fd, this};
    if (int rc = uv_poll_init_socket(loop_, &poll->handle, fd); rc != 0) {
      delete poll;
      return rc;
    }
    poll->handle.data = poll;
    polls_.emplace(fd, poll);
  }
  return uv_poll_start(&poll->handle, events, onPoll);
}

void SocketPolls::forget(int fd) {
  auto it = polls_.find(fd);
  if (it == polls_.end()) return;
  Poll* poll = it->second;
  polls_.erase(it);
  uv_poll_stop(&poll->handle);
  uv_close(asHandle(&poll->handle), [](uv_handle_t* handle) { delete static_cast<Poll*>(handle->data); });
}

void SocketPolls::stopAll(std::vector<uv_handle_t*>& handles) {
  for (auto& [fd, poll] : polls_) {
    uv_poll_stop(&poll->handle);
    handles.push_back(asHandle(&poll->handle));
  }
}

void SocketPolls::release() {
  for (auto& [fd, poll] : polls_) delete poll;
  polls_.clear();
}

void SocketPolls::onPoll(uv_poll_t* handle, int status, int events) noexcept {
  auto* poll = static_cast<Poll*>(handle->data);
  poll->owner->ready_(poll->fd, status, events);
}

}  // namespace lbmail
