// The close countdown over one owner's libuv handles.
#include "lbmail/core/handle_closer.h"

#include <utility>

namespace lbmail {

void HandleCloser::close(std::span<uv_handle_t* const> handles, std::function<void()> done) {
  if (started_) return;
  started_ = true;
  if (handles.empty()) {
    // Nothing to wait for: an owner that never opened a handle is closed now.
    if (done) done();
    return;
  }
  done_ = std::move(done);
  open_ = handles.size();
  for (uv_handle_t* h : handles) {
    h->data = this;
    uv_close(h, onClosed);
  }
}

void HandleCloser::onClosed(uv_handle_t* handle) {
  auto* self = static_cast<HandleCloser*>(handle->data);
  if (--self->open_ > 0) return;
  // Taken out first: done may destroy the owner, and this closer with it.
  std::function<void()> done = std::move(self->done_);
  if (done) done();
}

}  // namespace lbmail
