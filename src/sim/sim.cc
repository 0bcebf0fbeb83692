// The simulation's steps, on the loop: build the world (off the loop), start DNS, then per run
// sinks → gateways → initiator → wait for it → stop the rest → read the outcome back; then the
// report.
#include "sim.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lbmail/core/log.h"
#include "lbmail/core/units.h"
#include "model_report.h"
#include "sim_report.h"

namespace lbmail {
namespace {

constexpr auto kReadyBound = std::chrono::seconds(20);
constexpr auto kStopGrace = std::chrono::seconds(10);

// This binary, for the children.
std::string selfPath() {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "lbmail" : p.string();
}

std::string findDnsmasq() {
  for (const char* p : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// The number after "key=" in the last line of file holding event.
uint64_t loggedNumber(const std::string& file, const std::string& event, const std::string& key) {
  std::ifstream in(file);
  uint64_t value = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(event) == std::string::npos) continue;
    size_t at = line.find(" " + key + "=");
    if (at != std::string::npos) value = std::strtoull(line.c_str() + at + key.size() + 2, nullptr, 10);
  }
  return value;
}

}  // namespace

Sim::Sim(uv_loop_t* loop, const SimConfig& config, MetricsRegistry& metrics)
    : ModeService(loop, config.service, metrics), settings_(config.sim), children_(loop), background_(loop) {
  settings_.work_dir = std::filesystem::absolute(settings_.work_dir).lexically_normal().string();
  for (const std::string& scenario : settings_.scenarios) {
    if (isModelScenario(scenario)) {
      model_scenarios_.push_back(scenario);
    } else {
      planScenario(scenario);
    }
  }
  uv_timer_init(loop_, &run_timer_);
  run_timer_.data = this;
}

Sim::~Sim() = default;

// The oracle and every policy in the scenario's world; run names carry the scenario but for the
// default one (the names the comparison always had).
void Sim::planScenario(const std::string& scenario) {
  std::string prefix = scenario == "default" ? "" : scenario + "-";
  RunWorld world{scenario, false, true, false};
  if (settings_.oracle) plan_.push_back({prefix + "oracle", "fixed", RunWorld{scenario, true, true, false}});
  for (const std::string& p : settings_.policies) {
    // --policies may name the model world's own (the oracle, rivals the processes lack).
    if (validRunPolicy(p)) plan_.push_back({prefix + p, p, world});
  }
  if (scenario == "default" && settings_.shift) plan_.push_back({"ewma-shift", "ewma", RunWorld{scenario, false, true, true}});
  if (scenario == "warmup") plan_.push_back({prefix + "ewma-uncapped", "ewma", RunWorld{scenario, false, false, false}});
}

int Sim::onStart() {
  sim_started_ms_ = uv_now(loop_);
  if (!model_scenarios_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(settings_.work_dir, ec);
    if (ec) {
      logError("sim.failed", {{"why", "making " + settings_.work_dir + ": " + ec.message()}});
      return 1;
    }
    phase_ = "model";
    runModel(0);
    return 0;
  }
  startLive();
  return 0;
}

// The model world's scenarios, one background job each (the loop stays free for /status and
// signals), a progress line as each ends; then the report, then the process runs if any.
void Sim::runModel(size_t i) {
  if (i == model_scenarios_.size()) return modelDone();
  auto result = std::make_shared<ModelScenarioResult>();
  std::string name = model_scenarios_[i];
  // The oracle runs beside the named policies (as in the process runs) unless oracle = false.
  std::vector<std::string> policies = settings_.model_policies;
  if (!policies.empty() && settings_.oracle) policies.push_back("oracle");
  if (policies.empty() && !settings_.oracle) {
    policies = modelPolicyNames();
    policies.erase(policies.begin());
  }
  background_.post(
      [this, result, name, policies] {
        *result = lbmail::runModelScenario(name, settings_.seed, settings_.quick, policies);
      },
      [this, result, i] {
        if (stopping_) return;
        std::string line = "model " + result->spec.scenario + ": " + std::to_string(result->results.size()) +
                           " policies, " + formatNumber("%.1f", result->cpu_seconds) + " s CPU\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
        logInfo("sim.model_scenario", {{"scenario", result->spec.scenario}, {"cpu_seconds", result->cpu_seconds}});
        model_results_.push_back(std::move(*result));
        runModel(i + 1);
      });
}

void Sim::modelDone() {
  ModelReport report(std::move(model_results_), static_cast<double>(uv_now(loop_) - sim_started_ms_) / 1000.0);
  std::string json = settings_.work_dir + "/model-report.json", html = settings_.work_dir + "/model-report.html";
  std::ofstream(json) << report.json() << "\n";
  std::ofstream(html) << report.html();
  std::string text = report.text() + "model report: " + html + " and " + json + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (!report.met()) exit_code_ = 1;
  if (plan_.empty()) {
    phase_ = "done";
    return requestStop();
  }
  startLive();
}

void Sim::startLive() {
  // Children of this binary die with the simulation even when it is killed (prctl in main).
  ::setenv("LBMAIL_DIE_WITH_PARENT", "1", 1);
  world_ = std::make_unique<SimWorld>(settings_, selfPath(), findDnsmasq());
  if (!world_->useDnsmasq()) logWarn("sim.no_dnsmasq", {{"fallback", "static routes in every gateway"}});
  phase_ = "building";
  logInfo("sim.building", {{"work_dir", settings_.work_dir}, {"recipients", settings_.recipients}});
  auto error = std::make_shared<std::string>();
  background_.post([this, error] { *error = world_->build(); }, [this, error] { built(*error); });
}

std::string Sim::writeConfig(const std::string& name, const std::string& text) {
  std::string file = world_->path("configs/" + name + ".toml");
  std::ofstream(file) << text;
  return file;
}

void Sim::startChild(const std::string& name, std::vector<std::string> argv, const std::string& ready_line,
                     std::vector<uint64_t>& ids, const std::shared_ptr<std::function<void(bool)>>& all) {
  uint64_t id = children_.start(name, argv, world_->path("logs/" + name + ".log"));
  if (id == 0) return (*all)(false);
  ids.push_back(id);
  children_.whenLogged(id, ready_line, kReadyBound, [all](bool ok) { (*all)(ok); });
}

// Calls done(true) once n children are ready, done(false) at the first that is not.
static std::shared_ptr<std::function<void(bool)>> countReady(size_t n, std::function<void(bool)> done) {
  auto left = std::make_shared<size_t>(n);
  auto failed = std::make_shared<bool>(false);
  return std::make_shared<std::function<void(bool)>>([left, failed, done = std::move(done)](bool ok) {
    if (*failed) return;
    if (!ok) {
      *failed = true;
      return done(false);
    }
    if (--*left == 0) done(true);
  });
}

void Sim::built(const std::string& error) {
  if (stopping_) return;
  if (!error.empty()) return fail("building the world: " + error);
  logInfo("sim.built", {{"recipients", settings_.recipients}, {"domains", settings_.domains}});
  if (!world_->useDnsmasq()) return startRun();
  phase_ = "dns";
  std::vector<uint64_t> ids;
  auto ready = countReady(1, [this](bool ok) {
    if (stopping_) return;
    if (!ok) return fail("dnsmasq did not start (logs/dnsmasq.log)");
    startRun();
  });
  startChild("dnsmasq", world_->dnsmasqArgs(), "started, version", ids, ready);
  dns_ = ids.empty() ? 0 : ids[0];
}

void Sim::startRun() {
  if (stopping_) return;
  if (current_ >= plan_.size()) return finish();
  const Run& run = plan_[current_];
  phase_ = "run " + run.name;
  logInfo("sim.run_starting", {{"run", run.name}, {"policy", run.policy}});
  startSinks([this](bool ok) {
    if (stopping_) return;
    if (!ok) return fail("a sink did not start (logs/" + plan_[current_].name + "-sink-*.log)");
    startGateways([this](bool ok) {
      if (stopping_) return;
      if (!ok) return fail("a gateway did not start (logs/" + plan_[current_].name + "-gw*.log)");
      startInitiator();
    });
  });
}

void Sim::startSinks(std::function<void(bool)> ready) {
  sinks_.clear();
  // The run's clock starts here, outside receiver or not: the report counts seconds from it.
  sinks_started_unix_ = unixNow();
  if (!settings_.receiver.empty()) return ready(true);  // an outside receiver takes the mail
  const Run& run = plan_[current_];
  auto all = countReady(settings_.groups, std::move(ready));
  for (uint32_t k = 0; k < settings_.groups; ++k) {
    std::string name = run.name + "-sink-g" + std::to_string(k + 1);
    std::string config = writeConfig(name, world_->sinkConfig(k, run.world, run.name));
    startChild(name, {world_->binary(), "sink", "-c", config}, "event=sink.listening", sinks_, all);
    if (stopping_) return;
  }
}

void Sim::startGateways(std::function<void(bool)> ready) {
  gateways_.clear();
  const Run& run = plan_[current_];
  auto all = countReady(settings_.gateways, std::move(ready));
  for (uint32_t g = 0; g < settings_.gateways; ++g) {
    std::string name = run.name + "-" + world_->gatewayName(g);
    std::string config = writeConfig(name, world_->gatewayConfig(g, run.world, run.name));
    startChild(name, {world_->binary(), "gateway", "-c", config}, "event=gateway.listening", gateways_, all);
    if (stopping_) return;
  }
}

void Sim::startInitiator() {
  const Run& run = plan_[current_];
  std::string name = run.name + "-initiator";
  std::string config = writeConfig(name, world_->initiatorConfig(run.name, run.policy, run.world));
  run_started_ms_ = uv_now(loop_);
  initiator_code_ = -1;
  initiator_ = children_.start(name, {world_->binary(), "initiator", "-c", config},
                               world_->path("logs/" + name + ".log"), [this](int code) { initiatorExited(code); });
  if (initiator_ == 0) return fail("the initiator did not start");
  uv_timer_start(
      &run_timer_, onRunTimeout,
      toMillis(settings_.run_timeout), 0);
}

void Sim::onRunTimeout(uv_timer_t* t) {
  auto* self = static_cast<Sim*>(t->data);
  logError("sim.run_timeout", {{"run", self->plan_[self->current_].name}});
  self->timed_out_ = true;
  self->children_.stop(self->initiator_, kStopGrace, [] {});
}

void Sim::initiatorExited(int code) {
  uv_timer_stop(&run_timer_);
  initiator_code_ = code;
  if (stopping_) return;
  RunStats s;
  s.name = plan_[current_].name;
  s.policy = plan_[current_].policy;
  s.scenario = plan_[current_].world.scenario;
  s.capped = plan_[current_].world.capped;
  s.finished = code == 0 && !timed_out_;
  timed_out_ = false;
  s.seconds = static_cast<double>(uv_now(loop_) - run_started_ms_) / 1000.0;
  stats_.push_back(std::move(s));
  logInfo("sim.run_finished", {{"run", plan_[current_].name}, {"code", code}, {"seconds", stats_.back().seconds}});
  phase_ = "stopping " + plan_[current_].name;
  stopRunProcesses([this] { analyse(); });
}

void Sim::stopRunProcesses(std::function<void()> done) {
  std::vector<uint64_t> ids = gateways_;
  ids.insert(ids.end(), sinks_.begin(), sinks_.end());
  auto left = std::make_shared<size_t>(ids.size() + 1);
  auto one = [left, done = std::move(done)] {
    if (--*left == 0) done();
  };
  for (uint64_t id : ids) children_.stop(id, kStopGrace, one);
  one();
}

void Sim::analyse() {
  if (stopping_) return;
  RunStats& s = stats_.back();
  const Run& run = plan_[current_];
  std::string initiator_log = world_->path("logs/" + run.name + "-initiator.log");
  s.link_bytes = loggedNumber(initiator_log, "event=campaign.link_bytes", "sent") +
                 loggedNumber(initiator_log, "event=campaign.link_bytes", "received");
  for (uint32_t g = 0; g < settings_.gateways; ++g) {
    s.smtp_bytes += loggedNumber(world_->path("logs/" + run.name + "-" + world_->gatewayName(g) + ".log"),
                                 "event=gateway.drained", "message_bytes");
  }
  s.started_unix = sinks_started_unix_;
  if (settings_.receiver.empty()) {
    for (uint32_t k = 0; k < settings_.groups; ++k) {
      readSinkTotals(*world_, world_->path("logs/" + run.name + "-sink-g" + std::to_string(k + 1) + ".log"), k, s);
    }
  }
  double shift_at =
      run.world.shifted ? sinks_started_unix_ + std::chrono::duration<double>(settings_.shift_after).count() : 0;
  auto error = std::make_shared<std::string>();
  background_.post([this, error, shift_at] { *error = analyseRun(*world_, settings_, stats_.back(), shift_at); },
                   [this, error] {
                     if (!error->empty()) return fail("reading the run back: " + *error);
                     const RunStats& r = stats_.back();
                     logInfo("sim.run_result", {{"run", r.name},
                                                {"delivered", r.delivered},
                                                {"accounted", r.finals},
                                                {"mean_ms", r.mean_ms},
                                                {"msgs_per_second", r.msgs_per_second}});
                     ++current_;
                     startRun();
                   });
}

void Sim::finish() {
  phase_ = "report";
  SimReport report{settings_, stats_, world_->gatewayNames(), static_cast<double>(uv_now(loop_) - sim_started_ms_) / 1000.0,
                   world_->scenario().warmupCap()};
  std::ofstream(world_->path("report.json")) << report.json() << "\n";
  std::ofstream(world_->path("report.html")) << report.html();
  std::string text = report.text();
  text += "report: " + world_->path("report.html") + " and " + world_->path("report.json") + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (!report.complete()) exit_code_ = 1;
  phase_ = "done";
  requestStop();
}

void Sim::fail(const std::string& why) {
  logError("sim.failed", {{"why", why}});
  exit_code_ = 1;
  phase_ = "failed";
  requestStop();
}

void Sim::onStop(std::function<void()> done) {
  stopping_ = true;
  uv_timer_stop(&run_timer_);
  // The world may still be building: the children are stopped once that job is over.
  background_.whenIdle([this, done = std::move(done)]() mutable {
    children_.stopAll(kStopGrace, [this, done = std::move(done)]() mutable {
      // done may free this Sim: only after the timer's close callback (uv_close contract).
      timer_closer_.close({asHandle(&run_timer_)}, std::move(done));
    });
  });
}

void Sim::writeModeStatus(JsonWriter& w) {
  w.key("sim").beginObject();
  w.field("phase", phase_);
  w.field("runs_done", static_cast<uint64_t>(stats_.size()));
  w.field("runs_planned", static_cast<uint64_t>(plan_.size()));
  w.field("model_scenarios_done", static_cast<uint64_t>(model_results_.size()));
  w.field("model_scenarios_planned", static_cast<uint64_t>(model_scenarios_.size()));
  w.field("work_dir", settings_.work_dir);
  w.endObject();
}

}  // namespace lbmail
