// What every mode (initiator, gateway, sink, sim) is to the process: start, drain, report.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/core/done_callbacks.h"
#include "lbmail/core/json_writer.h"
#include "lbmail/core/metrics_registry.h"
#include "lbmail/core/service_config.h"

namespace lbmail {

class ModeService {
 public:
  enum class State { kStarting, kRunning, kDraining, kStopped };

  ModeService(uv_loop_t* loop, const ServiceConfig& config, MetricsRegistry& metrics);
  ModeService(const ModeService&) = delete;
  ModeService& operator=(const ModeService&) = delete;
  virtual ~ModeService() = default;

  // Returns 0 when the mode runs, or an error code (the process then exits 1).
  int start();
  // Graceful drain: stop taking work, finish or cancel what is in flight, close every
  // handle the mode owns; done runs once that is over (every caller's, if asked twice).
  void stop(std::function<void()> done);
  // The mode's part of /status: node, mode, state and what the mode adds.
  void writeStatus(JsonWriter& w);

  State state() const { return state_; }
  static std::string_view stateName(State s);

  // A page the mode adds to its admin endpoint (the initiator's live page at "/").
  struct AdminPage {
    std::string path;
    std::string content_type;
    std::function<std::string()> body;
  };
  virtual std::vector<AdminPage> adminPages() { return {}; }

  // The process's exit code once the mode has stopped (a simulation whose report is incomplete
  // exits 1).
  virtual int exitCode() const { return 0; }

  // How the mode asks the process to shut down once its work is over (a finished campaign).
  void setStopRequest(std::function<void()> request) { stop_request_ = std::move(request); }

 protected:
  virtual int onStart() { return 0; }
  virtual void onStop(std::function<void()> done) { done(); }
  virtual void writeModeStatus(JsonWriter&) {}
  void requestStop() {
    if (stop_request_) stop_request_();
  }

  uv_loop_t* loop_;
  const ServiceConfig& config_;
  MetricsRegistry& metrics_;

 private:
  State state_ = State::kStarting;
  DoneCallbacks stopped_;
  std::function<void()> stop_request_;
};

}  // namespace lbmail
