// lbmail sink against Postfix's smtp-sink in the same run: Postfix's smtp-source (8 sessions,
// connection reuse) sends N messages of 20 KB and 100 KB to each. Reported: messages per second
// and the receiver's CPU time per message. Target: lbmail sink at least 1.0x smtp-sink's
// messages per second with no more CPU per message. Bounded: N messages, 120 s per run.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "child_process.h"
#include "sink_process.h"

namespace {

using lbmail::test::ChildProcess;

constexpr int kMessages = 2000;

std::string freePort() { return std::to_string(lbmail::test::freePort()); }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

struct ReceiverRun {
  bool ok = false;
  double seconds = 0;
  double receiver_cpu_seconds = 0;
};

// Starts the receiver, waits until it accepts connections, drives smtp-source into it, then
// stops it and reads its CPU time from wait4.
ReceiverRun runAgainst(const std::vector<std::string>& receiver, const std::string& port, size_t size) {
  ReceiverRun run;
  ChildProcess server(receiver);
  if (!server.started()) return run;
  if (!lbmail::test::waitUntilAccepting(*lbmail::SocketAddress::parse("127.0.0.1:" + port))) return run;
  auto t0 = std::chrono::steady_clock::now();
  ChildProcess source({env("LBMAIL_SMTP_SOURCE"), "-d", "-s", "8", "-m", std::to_string(kMessages), "-l",
                       std::to_string(size), "-f", "bench@sender.test", "-t", "rcpt@example.test",
                       "127.0.0.1:" + port});
  int status = source.wait(std::chrono::seconds(120));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  server.signal(SIGTERM);
  struct rusage usage {};
  server.wait(std::chrono::seconds(20), &usage);
  run.receiver_cpu_seconds = lbmail::test::cpuSeconds(usage);
  run.ok = lbmail::test::exitCode(status) == 0;
  return run;
}

void report(benchmark::State& state, const ReceiverRun& run) {
  state.SetIterationTime(run.seconds);
  state.counters["msgs_per_s"] = kMessages / run.seconds;
  state.counters["cpu_us_per_msg"] = run.receiver_cpu_seconds * 1e6 / kMessages;
}

void lbmailSink(benchmark::State& state) {
  auto size = static_cast<size_t>(state.range(0));
  std::string config = "/tmp/lbmail-sink-bench-" + std::to_string(getpid()) + ".toml";
  std::string port = freePort();
  std::ofstream(config) << "[admin]\nlisten = \"127.0.0.1:0\"\n[log]\nlevel = \"warn\"\n[sink]\nlisten = \"127.0.0.1:"
                        << port << "\"\n";
  for (auto _ : state) {
    ReceiverRun run = runAgainst({env("LBMAIL_BINARY"), "sink", "-c", config}, port, size);
    if (!run.ok) {
      state.SkipWithError("smtp-source did not finish against lbmail sink");
      break;
    }
    report(state, run);
  }
  std::remove(config.c_str());
}

void postfixSmtpSink(benchmark::State& state) {
  auto size = static_cast<size_t>(state.range(0));
  std::string port = freePort();
  for (auto _ : state) {
    // -u: the user to run as (smtp-sink refuses to run as root); 256: the listen backlog.
    ReceiverRun run = runAgainst({env("LBMAIL_SMTP_SINK"), "-u", "nobody", "127.0.0.1:" + port, "256"}, port, size);
    if (!run.ok) {
      state.SkipWithError("smtp-source did not finish against smtp-sink");
      break;
    }
    report(state, run);
  }
}

BENCHMARK(lbmailSink)->Arg(20 * 1024)->Arg(100 * 1024)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(postfixSmtpSink)->Arg(20 * 1024)->Arg(100 * 1024)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
