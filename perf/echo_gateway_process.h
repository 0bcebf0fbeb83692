// The gateway side of perf/link_bench in a process of its own (the benchmark binary started
// again), as a real gateway is another process: it answers every SEND at once with a RESULT (no
// delivery) and hands credit back in batches, over the real (TLS) link or the plaintext
// benchmark link. The parent asks it for its CPU time over a pipe, so that both sides' cost can
// be reported.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace lbmail::perf {

enum class LinkKind { kTls, kPlain };

// The window the echo gateway grants when a link opens, and the batch it re-grants in.
inline constexpr uint32_t kEchoCredit = 4096;
inline constexpr uint32_t kEchoGrantBatch = 256;

class EchoGatewayProcess {
 public:
  // Starts the gateway and waits (at most 10 s) for the port it listens on, on 127.0.0.1.
  explicit EchoGatewayProcess(LinkKind kind);
  EchoGatewayProcess(const EchoGatewayProcess&) = delete;
  EchoGatewayProcess& operator=(const EchoGatewayProcess&) = delete;
  // Kills the process and reaps it.
  ~EchoGatewayProcess();

  bool started() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  // The gateway process's CPU time so far (user and system), seconds; nullopt when it does not
  // answer within 10 s. Ask only while the parent's loop is idle: the call blocks.
  std::optional<double> cpuSeconds();

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;   // child to parent: the port, then CPU times
  int control_fd_ = -1;  // parent to child: one byte per CPU time wanted
  uint16_t port_ = 0;
};

// CLOCK_PROCESS_CPUTIME_ID of the calling process, seconds.
double processCpuSeconds();

}  // namespace lbmail::perf
