// The peer run the sending benchmarks share: Postfix's smtp-source sending N messages over 8
// reused sessions into a receiver, timed, with its CPU time; and CPU pinning for fair runs.
#pragma once

#include <cstddef>

#include "lbmail/core/socket_address.h"

namespace lbmail::perf {

constexpr int kSessions = 8;

struct SenderRun {
  bool ok = false;
  double seconds = 0;
  double cpu_seconds = 0;
  double sink_cpu_seconds = 0;
};

// Pins this process (and the children it starts later) to one CPU; LBMAIL_BENCH_NO_PIN=1
// leaves placement to the scheduler.
void pinTo(int cpu);

// smtp-source -d -s 8 on CPU 1: messages of payload bytes to sink; bounded at 120 s.
SenderRun runSmtpSource(const SocketAddress& sink, size_t payload, int messages);

}  // namespace lbmail::perf
