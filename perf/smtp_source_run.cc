// smtp-source as the benchmarks' peer.
#include "smtp_source_run.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "child_process.h"
#include "validate.h"

namespace lbmail::perf {

void pinTo(int cpu) {
  if (std::getenv("LBMAIL_BENCH_NO_PIN")) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN))), &set);
  sched_setaffinity(0, sizeof set, &set);
}

SenderRun runSmtpSource(const SocketAddress& sink, size_t payload, int messages) {
  SenderRun run;
  auto t0 = std::chrono::steady_clock::now();
  test::ChildProcess source({"/usr/bin/taskset", "-c", std::getenv("LBMAIL_BENCH_NO_PIN") ? "0-63" : "1",
                             test::testEnv("LBMAIL_SMTP_SOURCE"), "-d", "-s", std::to_string(kSessions), "-m",
                             std::to_string(messages), "-l", std::to_string(payload), "-f", "bench@sender.test", "-t",
                             "rcpt@example.test", sink.toString()});
  rusage usage{};
  int status = source.wait(std::chrono::seconds(120), &usage);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.cpu_seconds = test::cpuSeconds(usage);
  run.ok = test::exitCode(status) == 0;
  return run;
}

}  // namespace lbmail::perf
