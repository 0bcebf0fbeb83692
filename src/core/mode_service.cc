// The lifecycle every mode shares.
#include "lbmail/core/mode_service.h"

#include "lbmail/core/log.h"

namespace lbmail {

ModeService::ModeService(uv_loop_t* loop, const ServiceConfig& config, MetricsRegistry& metrics)
    : loop_(loop), config_(config), metrics_(metrics) {}

std::string_view ModeService::stateName(State s) {
  switch (s) {
    case State::kStarting: return "starting";
    case State::kRunning: return "running";
    case State::kDraining: return "draining";
    case State::kStopped: return "stopped";
  }
  return "unknown";
}

int ModeService::start() {
  int rc = onStart();
  if (rc != 0) return rc;
  state_ = State::kRunning;
  logInfo("mode.running", {{"mode", modeName(config_.mode)}, {"node", config_.node_name}});
  return 0;
}

void ModeService::stop(std::function<void()> done) {
  stopped_.add(std::move(done));
  if (state_ == State::kStopped) {
    stopped_.runAll();
    return;
  }
  if (state_ == State::kDraining) return;
  state_ = State::kDraining;
  logInfo("mode.draining", {{"mode", modeName(config_.mode)}});
  onStop([this] {
    state_ = State::kStopped;
    logInfo("mode.stopped", {{"mode", modeName(config_.mode)}});
    stopped_.runAll();
  });
}

void ModeService::writeStatus(JsonWriter& w) {
  w.field("node", config_.node_name);
  w.field("mode", modeName(config_.mode));
  w.field("state", stateName(state_));
  writeModeStatus(w);
}

}  // namespace lbmail
