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
#include <optional>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/gateway.h"
#include "import_command.h"
#include "suppress_command.h"
#include "initiator/initiator.h"
#include "lbmail/admin/admin_server.h"
#include "lbmail/core/log.h"
#include "lbmail/core/mode_service.h"
#include "lbmail/core/process_metrics.h"
#include "lbmail/core/service_config.h"
#include "lbmail/core/shutdown_signals.h"
#include "lbmail/dkim/keygen_command.h"
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

using Args = std::vector<std::string_view>;

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

// One entry per word that may follow "lbmail": dispatch and the usage text both come from here.
struct Command {
  std::string_view name;
  bool helper;            // listed under "helpers:", not "modes:"
  std::string_view help;  // its line in the usage text
  int (*run)(const Args& args);
};

int runInitiatorMode(const Args& args);
int runGatewayMode(const Args& args);
int runSinkMode(const Args& args);
int runSimMode(const Args& args);

constexpr Command kCommands[] = {
    {"initiator", false, "run a campaign over the recipient database through the gateways", runInitiatorMode},
    {"gateway", false, "take authenticated assemble-and-mail requests and deliver them", runGatewayMode},
    {"sink", false, "a fast receiving SMTP server with scripted latency and failures", runSinkMode},
    {"sim", false, "the whole system on loopback, with a report", runSimMode},
    {"media", true, "build or verify the media cache (lbmail media --help)", media::runMediaCommand},
    {"dkim", true, "generate DKIM keys and print their DNS records (lbmail dkim --help)", dkim::runDkimCommand},
    {"import", true, "load recipients from CSV into the database (lbmail import --help)", runImportCommand},
    {"suppress", true, "add, remove, import or list suppressed addresses (lbmail suppress --help)",
     runSuppressCommand},
};

void printUsage(FILE* out) {
  std::fprintf(out,
               "usage: lbmail <mode> -c FILE [--check-config]\n"
               "       lbmail <mode> --help\n"
               "       lbmail --version\n");
  for (bool helpers : {false, true}) {
    std::fputs(helpers ? "\nhelpers:\n" : "\nmodes:\n", out);
    for (const Command& c : kCommands) {
      if (c.helper != helpers) continue;
      std::fprintf(out, "  %-11.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                   static_cast<int>(c.help.size()), c.help.data());
    }
  }
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
        "  --scenario NAME     the model world's matrix, loaded, uneven, heavy_tail, drift, shift, failure,\n"
        "                      blocked, throttled, warming or all; the processes' default, blocklist,\n"
        "                      throttle, warmup or live (a list: a,b)\n"
        "  --policies LIST     the policies to compare, e.g. ewma,c3,prequal,round_robin\n"
        "  --shift             add the shift scenario (group 1's fastest gateway changes mid-run)\n"
        "The report goes to the terminal and to [sim] work_dir as report.json and report.html;\n"
        "the model world's to model-report.json and model-report.html; the exit code is 1 when a run\n"
        "did not account for every recipient or a model target was missed.\n");
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

// How a mode's own option (beyond -c, --check-config and --help) went.
enum class OptionResult { kTaken, kNotMine, kError };
// Looks at args[i] and moves i past any value it takes; kError once the error is printed.
using ModeOption = std::function<OptionResult(const Args& args, size_t& i)>;

struct CommonOptions {
  std::string config_file;
  bool check_only = false;
};

// Parses the options every mode shares. Returns the exit code when the command ends here
// (--help, a usage error), nothing when the mode should go on.
std::optional<int> parseOptions(Mode mode, const Args& args, const ModeOption& mode_option, CommonOptions& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      printModeHelp(mode);
      return kExitOk;
    } else if (a == "-c" || a == "--config") {
      if (i + 1 >= args.size()) return usageError(std::string(a) + " needs a file name");
      out.config_file = args[++i];
    } else if (a.starts_with("--config=")) {
      out.config_file = a.substr(std::strlen("--config="));
    } else if (a == "--check-config") {
      out.check_only = true;
    } else if (OptionResult r = mode_option ? mode_option(args, i) : OptionResult::kNotMine;
               r != OptionResult::kNotMine) {
      if (r == OptionResult::kError) return kExitUsage;
    } else {
      return usageError(std::string(modeName(mode)) + ": unknown option '" + std::string(a) + "' (see 'lbmail " +
                        std::string(modeName(mode)) + " --help')");
    }
  }
  if (out.config_file.empty()) {
    return usageError(std::string(modeName(mode)) + ": -c FILE is required (example: configs/" +
                      std::string(modeName(mode)) + ".toml)");
  }
  return std::nullopt;
}

// Loads the mode's configuration, then checks it or runs the mode over it. adjust applies
// command-line settings to a loaded configuration.
template <typename Service, typename Config>
int runConfiguredMode(Mode mode, const Args& args, Expected<Config, std::string> (*load)(const std::string&),
                      const ModeOption& mode_option = nullptr,
                      const std::function<void(std::type_identity_t<Config>&)>& adjust = nullptr) {
  CommonOptions options;
  if (std::optional<int> exit_code = parseOptions(mode, args, mode_option, options)) return *exit_code;
  auto config = load(options.config_file);
  if (!config) return usageError(config.error());
  if (options.check_only) {
    std::printf("%s: valid %s configuration\n", options.config_file.c_str(),
                std::string(modeName(config->service.mode)).c_str());
    return kExitOk;
  }
  if (adjust) adjust(*config);
  return runService(config->service, [&](uv_loop_t* loop, MetricsRegistry& metrics) {
    return std::make_unique<Service>(loop, *config, metrics);
  });
}

int runInitiatorMode(const Args& args) { return runConfiguredMode<Initiator>(Mode::kInitiator, args, loadInitiatorConfig); }
int runGatewayMode(const Args& args) { return runConfiguredMode<Gateway>(Mode::kGateway, args, loadGatewayConfig); }
int runSinkMode(const Args& args) { return runConfiguredMode<Sink>(Mode::kSink, args, loadSinkConfig); }

// --policies LIST: known policies, each named once.
OptionResult parsePolicies(std::string_view list, std::vector<std::string>& policies) {
  policies.clear();
  for (size_t at = 0; at <= list.size();) {
    size_t end = list.find(',', at);
    std::string p(list.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (!validRunPolicy(p) && !validModelPolicy(p)) {
      usageError("--policies: '" + p + "' is not one of ewma, c3, prequal, peak_ewma_p2c, least_request_p2c, "
                 "round_robin, random, least_loaded (and oracle in the model world)");
      return OptionResult::kError;
    }
    for (const std::string& q : policies) {
      if (q == p) {
        usageError("--policies: '" + p + "' is named twice");
        return OptionResult::kError;
      }
    }
    policies.push_back(p);
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return OptionResult::kTaken;
}

int runSimMode(const Args& args) {
  bool quick = false;
  bool shift = false;
  std::vector<std::string> policies;
  std::optional<std::vector<std::string>> scenarios;
  auto option = [&](const Args& a, size_t& i) {
    if (a[i] == "--scenario" || a[i].starts_with("--scenario=")) {
      if (a[i] == "--scenario" && i + 1 >= a.size()) {
        usageError(std::string("--scenario needs a name: ") + kScenarioNames);
        return OptionResult::kError;
      }
      std::string_view list = a[i] == "--scenario" ? std::string_view(a[++i]) : a[i].substr(std::strlen("--scenario="));
      auto parsed = parseScenarios(list);
      if (!parsed) {
        usageError("--scenario: " + parsed.error());
        return OptionResult::kError;
      }
      scenarios = *parsed;
    } else if (a[i] == "--quick") {
      quick = true;
    } else if (a[i] == "--shift") {
      shift = true;
    } else if (a[i] == "--policies") {
      if (i + 1 >= a.size()) {
        usageError("--policies needs a list such as ewma,round_robin");
        return OptionResult::kError;
      }
      return parsePolicies(a[++i], policies);
    } else if (a[i].starts_with("--policies=")) {
      return parsePolicies(a[i].substr(std::strlen("--policies=")), policies);
    } else {
      return OptionResult::kNotMine;
    }
    return OptionResult::kTaken;
  };
  return runConfiguredMode<Sim>(Mode::kSim, args, loadSimConfig, option, [&](SimConfig& config) {
    if (quick) makeQuick(config.sim);
    if (shift) config.sim.shift = true;
    if (!policies.empty()) config.sim.policies = config.sim.model_policies = policies;
    if (scenarios) config.sim.scenarios = *scenarios;
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
  Args args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (c.name == first) return c.run(args);
  }
  return usageError("unknown mode '" + std::string(first) + "' (see 'lbmail --help')");
}
