// main() for every perf/ program: like BENCHMARK_MAIN, but exits 1 when any benchmark reported an
// error (Google Benchmark 1.7 exits 0 after SkipWithError), so `meson test --benchmark` fails.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <vector>

namespace {

class ErrorCountingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) ++errors;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  int errors = 0;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ErrorCountingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  if (reporter.errors > 0) std::fprintf(stderr, "%d benchmark(s) reported an error\n", reporter.errors);
  return reporter.errors > 0 ? 1 : 0;
}
