// Process-wide metrics: build_info, start time, resident memory, suppressed log lines.
#include "lbmail/core/process_metrics.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "lbmail/core/log.h"
#include "lbmail_build_config.h"

namespace lbmail {
namespace {

// Resident set size from /proc/self/statm (a memory-backed file: no disk I/O on the loop).
double residentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

void registerProcessMetrics(MetricsRegistry& metrics, const ServiceConfig& config, std::string_view allocator) {
  metrics
      .gauge("lbmail_build_info", "Always 1; the labels say what runs.",
             {{"version", LBMAIL_VERSION},
              {"mode", std::string(modeName(config.mode))},
              {"node", config.node_name},
              {"allocator", std::string(allocator)}})
      .set(1);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  metrics.gauge("lbmail_process_start_time_seconds", "Start time of the process since the Unix epoch.")
      .set(std::chrono::duration<double>(now).count());
  metrics.gaugeCallback("lbmail_process_resident_memory_bytes", "Resident memory size in bytes.", residentBytes);
  metrics.counterCallback("lbmail_log_lines_suppressed_total", "Repeated log lines held back by rate limiting.",
                          [] { return logger().suppressedTotal(); });
}

}  // namespace lbmail
