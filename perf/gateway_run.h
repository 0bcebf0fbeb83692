// One gateway run for the benchmarks: a media cache with one attachment of about the message
// size, the personalised material that uses it, and `lbmail gateway` driven over one link by the
// test initiator into a receiver, timed and with its CPU. Shared by gateway_bench and dkim_bench.
#pragma once

#include <sys/resource.h>

#include <string>

#include "lbmail/core/socket_address.h"
#include "lbmail/media/media_hash.h"
#include "sink_process.h"
#include "smtp_source_run.h"
#include "test_initiator.h"

namespace lbmail::perf {

// A cache holding one attachment sized so the whole message is about `size` octets.
struct BenchCache {
  explicit BenchCache(size_t size);
  ~BenchCache();
  std::string dir;
  media::MediaHash hash{};
};

// The bench's material: subject, text and HTML with merge fields, List-Unsubscribe, the attachment.
test::TestMaterial benchMaterial(const media::MediaHash& hash);

// The size of one assembled message, as the gateway builds it; 0 when it cannot be built.
size_t messageSize(const std::string& cache_dir, const media::MediaHash& hash);

struct GatewayRun : SenderRun {
  double driver_cpu_seconds = 0;
  double link_bytes = 0;  // the frames
  double wire_bytes = 0;  // the link's TCP payload, both ways
};

// N SENDs through a fresh gateway (extra: more configuration tables; smtp_extra: more [smtp]
// keys) into the receiver at sink; ok when every message was delivered. Bounded at 120 s.
GatewayRun runGateway(const SocketAddress& sink, const BenchCache& cache, int messages, const std::string& extra = "",
                      const std::string& smtp_extra = "");

// A fresh smtp-sink on CPU 0 for one run; the sender side on CPU 1 (pinTo: unless
// LBMAIL_BENCH_NO_PIN is set).
template <typename Run>
auto againstSink(Run run) {
  pinTo(0);
  test::PostfixSmtpSink sink;
  decltype(run(SocketAddress())) result{};
  if (!sink.start()) return result;
  pinTo(1);
  result = run(sink.address());
  rusage usage{};
  sink.stop(&usage);
  result.sink_cpu_seconds = test::cpuSeconds(usage);
  return result;
}

}  // namespace lbmail::perf
