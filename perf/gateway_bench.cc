// Gateway throughput against Postfix's smtp-source in the same run, both into Postfix's
// smtp-sink, at 20 KB and 100 KB. lbmail: a link-level driver (the test initiator) sends N
// SEND requests for a personalised message with one attachment to an `lbmail gateway`
// process with its default SMTP settings (up to 20 connections per destination), which
// assembles and delivers each and answers with a RESULT.
// smtp-source sends N ready-made messages of the same size over 8 sessions. Reported:
// messages per second and CPU per message for both, and the control-link bytes per message
// (SEND, RESULT, CREDIT, LOAD both ways) against the SMTP message bytes: the octets on the wire
// (TCP payload as the kernel counts it: TLS records and the handshake included), and the frames
// inside them. Targets: the gateway
// at least 0.9x smtp-source at both sizes; link bytes under 0.5% of message bytes at 100 KB.
// The receiver runs on CPU 0, each sender (and the driver) on CPU 1. Bounded: N messages,
// 120 s per run.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "bench_summary.h"
#include "gateway_run.h"

namespace {

using namespace lbmail;
using perf::againstSink;
using perf::BenchCache;
using perf::GatewayRun;
using perf::SenderRun;

void gatewayVsSmtpSource(benchmark::State& state) {
  auto size = static_cast<size_t>(state.range(0));
  const char* scale = std::getenv("LBMAIL_BENCH_MESSAGES");
  int messages = scale ? std::atoi(scale) : static_cast<int>(state.range(1));
  BenchCache cache(size);
  size_t message_size = perf::messageSize(cache.dir + "/cache", cache.hash);
  if (message_size == 0) {
    state.SkipWithError("could not build the bench material");
    return;
  }
  for (auto _ : state) {
    SenderRun source =
        againstSink([&](const SocketAddress& s) { return perf::runSmtpSource(s, message_size, messages); });
    GatewayRun gateway = againstSink([&](const SocketAddress& s) { return perf::runGateway(s, cache, messages); });
    if (!source.ok || !gateway.ok) {
      state.SkipWithError(!gateway.ok ? "the gateway did not deliver every message" : "smtp-source failed");
      break;
    }
    if (gateway.wire_bytes == 0) {
      state.SkipWithError("the link's octets could not be read (TCP_INFO, Linux 4.19 or later)");
      break;
    }
    state.SetIterationTime(gateway.seconds);
    double lbmail_rate = messages / gateway.seconds, source_rate = messages / source.seconds;
    state.counters["msg_bytes"] = static_cast<double>(message_size);
    state.counters["gateway_msgs_s"] = lbmail_rate;
    state.counters["source_msgs_s"] = source_rate;
    state.counters["rate_ratio"] = lbmail_rate / source_rate;
    state.counters["gateway_cpu_us"] = gateway.cpu_seconds * 1e6 / messages;
    state.counters["driver_cpu_us"] = gateway.driver_cpu_seconds * 1e6 / messages;
    state.counters["source_cpu_us"] = source.cpu_seconds * 1e6 / messages;
    state.counters["sink_cpu_us_gateway"] = gateway.sink_cpu_seconds * 1e6 / messages;
    state.counters["sink_cpu_us_source"] = source.sink_cpu_seconds * 1e6 / messages;
    state.counters["link_bytes"] = gateway.link_bytes / messages;
    state.counters["wire_bytes"] = gateway.wire_bytes / messages;
    state.counters["link_pct"] = 100.0 * gateway.wire_bytes / messages / static_cast<double>(message_size);
  }
}

BENCHMARK(gatewayVsSmtpSource)
    ->Args({20 * 1024, 5000})
    ->Args({100 * 1024, 2000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void summarise(const perf::Runs& runs) {
  std::printf("\ngateway_bench summary (this run):\n");
  for (const auto& r : runs) {
    if (r.error_occurred || r.counters.count("rate_ratio") == 0) continue;
    double ratio = r.counters.at("rate_ratio"), pct = r.counters.at("link_pct");
    std::printf(
        "  %6.0f-octet messages: gateway %.0f msg/s, smtp-source %.0f msg/s: %.2fx (target >= 0.9) %s; "
        "link %.0f octets/msg on the wire (frames %.0f) = %.3f%% of SMTP bytes%s\n",
        static_cast<double>(r.counters.at("msg_bytes")), static_cast<double>(r.counters.at("gateway_msgs_s")),
        static_cast<double>(r.counters.at("source_msgs_s")), ratio, ratio >= 0.9 ? "met" : "NOT MET",
        static_cast<double>(r.counters.at("wire_bytes")), static_cast<double>(r.counters.at("link_bytes")), pct,
        r.counters.at("msg_bytes") > 50000 ? (pct < 0.5 ? " (target < 0.5%: met)" : " (target < 0.5%: NOT MET)") : "");
  }
}

[[maybe_unused]] const bool kRegistered = perf::setSummary(summarise);

}  // namespace
