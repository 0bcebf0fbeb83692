// lbmail's entry point: parses the command line, loads the configuration and runs one mode.
#include <ares.h>
#include <llhttp.h>
#include <sys/prctl.h>
#include <toml++/toml.h>
#include <uv.h>
#include <xxhash.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/gateway.h"
#include "import_command.h"
#include "initiator/initiator.h"
#include "lbmail/admin/admin_server.h"
#include "lbmail/core/log.h"
#include "lbmail/core/mode_service.h"
#include "lbmail/core/process_metrics.h"
#include "lbmail/core/service_config.h"
#include "lbmail/core/shutdown_signals.h"
#include "lbmail_build_config.h"
#include "media_command.h"
#include "sim/sim.h"
#include "sink.h"
#include "sink_config.h"

#if LBMAIL_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

namespace lbmail {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

std::string allocatorName() {
#if LBMAIL_HAVE_MIMALLOC
  int v = mi_version();  // also keeps libmimalloc linked under --as-needed
  return "mimalloc-" + std::to_string(v / 100) + "." + std::to_string((v / 10) % 10) + "." + std::to_string(v % 10);
#else
  return "libc";
#endif
}

void printVersion() {
  std::printf("lbmail %s\n", LBMAIL_VERSION);
  std::printf("  libuv %s, c-ares %s, llhttp %d.%d.%d, toml++ %d.%d.%d, xxHash %u.%u.%u\n", uv_version_string(),
              ares_version(nullptr), LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH, TOML_LIB_MAJOR,
              TOML_LIB_MINOR, TOML_LIB_PATCH, XXH_VERSION_MAJOR, XXH_VERSION_MINOR, XXH_VERSION_RELEASE);
  std::printf("  allocator %s\n", allocatorName().c_str());
}

void printUsage(FILE* out) {
  std::fprintf(out,
               "usage: lbmail <mode> -c FILE [--check-config]\n"
               "       lbmail <mode> --help\n"
               "       lbmail --version\n"
               "\n"
               "modes:\n"
               "  initiator   run a campaign over the recipient database through the gateways\n"
               "  gateway     take authenticated assemble-and-mail requests and deliver them\n"
               "  sink        a fast receiving SMTP server with scripted latency and failures\n"
               "  sim         the whole system on loopback, with a report\n"
               "\n"
               "helpers:\n"
               "  media       build or verify the media cache (lbmail media --help)\n"
               "  import      load recipients from CSV into the database (lbmail import --help)\n");
}

void printModeHelp(Mode mode) {
  std::printf(
      "usage: lbmail %.*s -c FILE [--check-config]\n"
      "\n"
      "  -c, --config FILE   the TOML configuration (example: configs/%.*s.toml)\n"
      "  --check-config      validate the configuration and exit (0 valid, 2 invalid)\n"
      "  -h, --help          this text\n"
      "\n"
      "The admin endpoint (default 127.0.0.1:%u) serves /healthz, /metrics and /status.\n"
      "SIGINT or SIGTERM drains and exits 0; a second signal exits at once.\n",
      static_cast<int>(modeName(mode).size()), modeName(mode).data(), static_cast<int>(modeName(mode).size()),
      modeName(mode).data(), defaultAdminPort(mode));
  if (mode == Mode::kSim) {
    std::printf(
        "\nsim options:\n"
        "  --quick             a small world for a run under 30 seconds (CI)\n"
        "  --policies LIST     the policies to compare, e.g. ewma,round_robin,random,least_loaded\n"
        "  --shift             add the shift scenario (group 1's fastest gateway changes mid-run)\n"
        "The report goes to the terminal and to [sim] work_dir as report.json and report.html;\n"
        "the exit code is 1 when a run did not account for every recipient.\n");
  }
}

int usageError(const std::string& message) {
  std::fprintf(stderr, "lbmail: %s\n", message.c_str());
  return kExitUsage;
}

using ModeFactory = std::function<std::unique_ptr<ModeService>(uv_loop_t*, MetricsRegistry&)>;

// Runs one mode on its loop until it has drained; every handle is closed before returning.
int runService(const ServiceConfig& config, const ModeFactory& makeMode) {
  logger().setLevel(config.log.level);
  logger().setRepeatInterval(config.log.repeat_interval);

  uv_loop_t loop;
  uv_loop_init(&loop);
  MetricsRegistry metrics;
  registerProcessMetrics(metrics, config, allocatorName());
  std::unique_ptr<ModeService> mode = makeMode(&loop, metrics);
  AdminServer admin(
      &loop, config.admin, metrics, [&](JsonWriter& w) { mode->writeStatus(w); },
      [&] { return mode->state() == ModeService::State::kRunning; });

  for (ModeService::AdminPage& page : mode->adminPages()) {
    admin.router().add(page.path, [page](const HttpRequest&, AdminResponse& r) {
      r.content_type = page.content_type;
      r.body = page.body();
    });
  }

  std::function<void()> shutdown;
  ShutdownSignals signals(&loop, [&](int) { shutdown(); });
  shutdown = [&] {
    mode->stop([&] {
      admin.close([] {});
      signals.close();
    });
  };
  mode->setStopRequest([&] { shutdown(); });

  int exit_code = kExitOk;
  if (admin.start() != 0 || mode->start() != 0) {
    exit_code = kExitRuntime;
    shutdown();
  } else {
    logInfo("process.started", {{"mode", modeName(config.mode)}, {"pid", static_cast<int64_t>(getpid())}});
  }
  uv_run(&loop, UV_RUN_DEFAULT);

  int rc = uv_loop_close(&loop);
  if (rc != 0) {
    // A handle outlived shutdown: a bug. Name what is left, then fail loudly.
    uv_walk(
        &loop,
        [](uv_handle_t* h, void*) {
          logError("shutdown.handle_left", {{"type", uv_handle_type_name(h->type)}});
        },
        nullptr);
    return kExitRuntime;
  }
  if (exit_code == kExitOk) exit_code = mode->exitCode();
  logInfo("process.exit", {{"code", exit_code}});
  return exit_code;
}

int runMode(Mode mode, const std::vector<std::string_view>& args) {
  std::string config_file;
  bool check_only = false;
  struct {
    bool quick = false;
    bool shift = false;
    std::vector<std::string> policies;
  } sim_flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      printModeHelp(mode);
      return kExitOk;
    } else if (a == "-c" || a == "--config") {
      if (i + 1 >= args.size()) return usageError(std::string(a) + " needs a file name");
      config_file = args[++i];
    } else if (a.starts_with("--config=")) {
      config_file = a.substr(std::strlen("--config="));
    } else if (a == "--check-config") {
      check_only = true;
    } else if (mode == Mode::kSim && a == "--quick") {
      sim_flags.quick = true;
    } else if (mode == Mode::kSim && a == "--shift") {
      sim_flags.shift = true;
    } else if (mode == Mode::kSim && (a == "--policies" || a.starts_with("--policies="))) {
      std::string list;
      if (a == "--policies") {
        if (i + 1 >= args.size()) return usageError("--policies needs a list such as ewma,round_robin");
        list = args[++i];
      } else {
        list = a.substr(std::strlen("--policies="));
      }
      sim_flags.policies.clear();
      for (size_t at = 0; at <= list.size();) {
        size_t end = list.find(',', at);
        std::string p = list.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (!validRunPolicy(p)) {
          return usageError("--policies: '" + p + "' is not one of ewma, round_robin, random, least_loaded");
        }
        for (const std::string& q : sim_flags.policies) {
          if (q == p) return usageError("--policies: '" + p + "' is named twice");
        }
        sim_flags.policies.push_back(p);
        if (end == std::string::npos) break;
        at = end + 1;
      }
    } else {
      return usageError(std::string(modeName(mode)) + ": unknown option '" + std::string(a) + "' (see 'lbmail " +
                        std::string(modeName(mode)) + " --help')");
    }
  }
  if (config_file.empty()) {
    return usageError(std::string(modeName(mode)) + ": -c FILE is required (example: configs/" +
                      std::string(modeName(mode)) + ".toml)");
  }
  auto report = [&](const ServiceConfig& service) {
    std::printf("%s: valid %s configuration\n", config_file.c_str(), std::string(modeName(service.mode)).c_str());
    return kExitOk;
  };
  if (mode == Mode::kSink) {
    auto config = loadSinkConfig(config_file);
    if (!config) return usageError(config.error());
    if (check_only) return report(config->service);
    return runService(config->service, [&](uv_loop_t* loop, MetricsRegistry& metrics) {
      return std::make_unique<Sink>(loop, *config, metrics);
    });
  }
  if (mode == Mode::kGateway) {
    auto config = loadGatewayConfig(config_file);
    if (!config) return usageError(config.error());
    if (check_only) return report(config->service);
    return runService(config->service, [&](uv_loop_t* loop, MetricsRegistry& metrics) {
      return std::make_unique<Gateway>(loop, *config, metrics);
    });
  }
  if (mode == Mode::kInitiator) {
    auto config = loadInitiatorConfig(config_file);
    if (!config) return usageError(config.error());
    if (check_only) return report(config->service);
    return runService(config->service, [&](uv_loop_t* loop, MetricsRegistry& metrics) {
      return std::make_unique<Initiator>(loop, *config, metrics);
    });
  }
  auto config = loadSimConfig(config_file);
  if (!config) return usageError(config.error());
  if (check_only) return report(config->service);
  if (sim_flags.quick) makeQuick(config->sim);
  if (sim_flags.shift) config->sim.shift = true;
  if (!sim_flags.policies.empty()) config->sim.policies = sim_flags.policies;
  return runService(config->service, [&](uv_loop_t* loop, MetricsRegistry& metrics) {
    return std::make_unique<Sim>(loop, *config, metrics);
  });
}

}  // namespace
}  // namespace lbmail

int main(int argc, char** argv) {
  using namespace lbmail;
  // A peer that closes early must give EPIPE on write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Started by `lbmail sim`: end with it, even if it is killed (no process outlives a simulation).
  if (std::getenv("LBMAIL_DIE_WITH_PARENT")) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 2) {
    printUsage(stderr);
    return kExitUsage;
  }
  std::string_view first = argv[1];
  if (first == "--version" || first == "-V") {
    printVersion();
    return kExitOk;
  }
  if (first == "--help" || first == "-h") {
    printUsage(stdout);
    return kExitOk;
  }
  if (first == "media") return media::runMediaCommand(std::vector<std::string_view>(argv + 2, argv + argc));
  if (first == "import") return runImportCommand(std::vector<std::string_view>(argv + 2, argv + argc));
  std::optional<Mode> mode = parseMode(first);
  if (!mode) return usageError("unknown mode '" + std::string(first) + "' (see 'lbmail --help')");
  std::vector<std::string_view> args(argv + 2, argv + argc);
  return runMode(*mode, args);
}
