// Graceful shutdown on the first SIGINT/SIGTERM, immediate exit on the second.
#include "lbmail/core/shutdown_signals.h"

#include <unistd.h>

#include <cassert>
#include <cstring>

#include "lbmail/core/handle_closer.h"
#include "lbmail/core/log.h"

namespace lbmail {

ShutdownSignals::ShutdownSignals(uv_loop_t* loop, std::function<void(int)> on_first_signal)
    : on_first_signal_(std::move(on_first_signal)) {
  uv_signal_init(loop, &sigint_);
  uv_signal_init(loop, &sigterm_);
  sigint_.data = this;
  sigterm_.data = this;
  uv_signal_start(&sigint_, onSignal, SIGINT);
  uv_signal_start(&sigterm_, onSignal, SIGTERM);
}

ShutdownSignals::~ShutdownSignals() { assert(closed_ && "close() and run the loop before destroying"); }

void ShutdownSignals::close() {
  if (closed_) return;
  closed_ = true;
  uv_close(asHandle(&sigint_), nullptr);
  uv_close(asHandle(&sigterm_), nullptr);
}

void ShutdownSignals::onSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<ShutdownSignals*>(handle->data);
  if (self->requested_) {
    // The operator asked twice: stop now. _exit skips destructors that might wait on work.
    static const char kMsg[] = "level=warn event=shutdown.forced reason=\"second signal\"\n";
    ssize_t ignored = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    (void)ignored;
    _exit(128 + signum);
  }
  self->requested_ = true;
  logInfo("shutdown.requested", {{"signal", strsignal(signum)}, {"hint", "send again to exit at once"}});
  uv_unref(asHandle(&self->sigint_));
  uv_unref(asHandle(&self->sigterm_));
  self->on_first_signal_(signum);
}

}  // namespace lbmail
