// main() for every perf/ program: like BENCHMARK_MAIN, but exits 1 when any benchmark reported an
// error (Google Benchmark 1.7 exits 0 after SkipWithError), so `meson test --benchmark` fails;
// then prints the program's summary, if it registered one (bench_summary.h).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <vector>

#include "bench_summary.h"

namespace lbmail::perf {
namespace {
SummaryFn g_summary = nullptr;
}  // namespace
bool setSummary(SummaryFn fn) {
  g_summary = fn;
  return true;
}
SummaryFn summary() { return g_summary; }
}  // namespace lbmail::perf

namespace {

class ErrorCountingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) ++errors;
      all.push_back(r);
    }
    ConsoleReporter::ReportRuns(runs);
  }
  int errors = 0;
  std::vector<Run> all;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ErrorCountingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (lbmail::perf::summary() && reporter.errors == 0) lbmail::perf::summary()(reporter.all);
  benchmark::Shutdown();
  if (reporter.errors > 0) std::fprintf(stderr, "%d benchmark(s) reported an error\n", reporter.errors);
  return reporter.errors > 0 ? 1 : 0;
}
