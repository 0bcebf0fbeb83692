// A program in perf/ may register one summary that bench_main prints after every benchmark has
// run: ratios between benchmarks of the same run, and the targets they are checked against.
#pragma once

#include <benchmark/benchmark.h>

#include <vector>

namespace lbmail::perf {

using Runs = std::vector<benchmark::BenchmarkReporter::Run>;
using SummaryFn = void (*)(const Runs& runs);

// Call from a static initialiser; returns true so it can initialise a static.
bool setSummary(SummaryFn fn);
SummaryFn summary();

}  // namespace lbmail::perf
