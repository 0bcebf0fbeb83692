// The sim mode: the whole system as real processes of this binary on loopback addresses
// (dnsmasq, one sink per domain group, the gateways, an initiator per run), the campaign run
// once per policy, an oracle run and optionally a shift scenario, and a report. Every child is
// stopped by pid at the end or on SIGINT/SIGTERM; nothing is left running.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "child_processes.h"
#include "lbmail/core/background_queue.h"
#include "lbmail/core/handle_closer.h"
#include "lbmail/core/mode_service.h"
#include "model_scenarios.h"
#include "run_stats.h"
#include "sim_config.h"
#include "sim_world.h"

namespace lbmail {

class Sim final : public ModeService {
 public:
  Sim(uv_loop_t* loop, const SimConfig& config, MetricsRegistry& metrics);
  ~Sim() override;

  int exitCode() const override { return exit_code_; }

 protected:
  int onStart() override;
  void onStop(std::function<void()> done) override;
  void writeModeStatus(JsonWriter& w) override;

 private:
  struct Run {
    std::string name;
    std::string policy;
    RunWorld world;
  };

  void planScenario(const std::string& scenario);
  void runModel(size_t i);
  void modelDone();
  void startLive();

  void built(const std::string& error);
  void startRun();
  void startSinks(std::function<void(bool)> ready);
  void startGateways(std::function<void(bool)> ready);
  void startInitiator();
  void initiatorExited(int code);
  void stopRunProcesses(std::function<void()> done);
  void analyse();
  void finish();
  void fail(const std::string& why);
  // Starts a child, waits for its readiness line, and counts it into one "all ready".
  void startChild(const std::string& name, std::vector<std::string> argv, const std::string& ready_line,
                  std::vector<uint64_t>& ids, const std::shared_ptr<std::function<void(bool)>>& all);
  std::string writeConfig(const std::string& name, const std::string& text);
  static void onRunTimeout(uv_timer_t* t);

  SimSettings settings_;
  std::unique_ptr<SimWorld> world_;
  ChildProcesses children_;
  BackgroundQueue background_;
  std::vector<std::string> model_scenarios_;
  std::vector<ModelScenarioResult> model_results_;
  std::vector<Run> plan_;
  size_t current_ = 0;
  std::vector<RunStats> stats_;
  std::string phase_ = "starting";
  uint64_t dns_ = 0;
  std::vector<uint64_t> sinks_;
  std::vector<uint64_t> gateways_;
  uint64_t initiator_ = 0;
  uint64_t run_started_ms_ = 0;
  uint64_t sim_started_ms_ = 0;
  double sinks_started_unix_ = 0;
  int initiator_code_ = -1;
  uv_timer_t run_timer_;
  HandleCloser timer_closer_;
  bool stopping_ = false;
  bool timed_out_ = false;
  int exit_code_ = 0;
};

}  // namespace lbmail
