// The delivery engine against Postfix's smtp-source in the same run, both sending N ready-made
// messages of 1 KB, 20 KB and 100 KB over 8 reused connections into one Postfix smtp-sink.
// Reported for each: messages per second and the sender's CPU microseconds per message, and
// their ratio. smtp-source does not pipeline (four round trips a message); the engine sends a
// whole transaction in one. Targets: lbmail at least 2x smtp-source at 1 KB, at least 1.0x at
// 20 KB and 100 KB, with less CPU per message. The receiver is pinned to CPU 0 and both senders
// to CPU 1 so that they meet the same machine. Bounded: N messages, 120 s per run.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "lbmail/delivery/delivery_engine.h"
#include "sink_process.h"
#include "smtp_source_run.h"
#include "validate.h"

namespace {

using namespace std::chrono_literals;
using lbmail::SocketAddress;
using lbmail::test::ChildProcess;
using lbmail::test::cpuSeconds;
using lbmail::test::PostfixSmtpSink;
namespace smtp = lbmail::smtp;
namespace delivery = lbmail::delivery;

using lbmail::perf::kSessions;
using lbmail::perf::pinTo;
using lbmail::perf::runSmtpSource;
using lbmail::perf::SenderRun;

// A message like smtp-source's: a few headers and `payload` bytes of body in 76-byte lines.
std::shared_ptr<std::string> readyMessage(size_t payload) {
  auto m = std::make_shared<std::string>(
      "From: <bench@sender.test>\r\nTo: <rcpt@example.test>\r\nDate: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
      "Message-ID: <bench@sender.test>\r\nSubject: benchmark\r\n\r\n");
  size_t end = m->size() + payload;
  while (m->size() + 78 <= end) m->append(76, 'x').append("\r\n");
  if (m->size() < end) m->append(end - m->size(), 'x');
  m->append("\r\n");
  return m;
}

// The engine on this thread's own loop: all N submitted at once, the loop run until every
// result is in. CPU time is this process's, measured around the run only.
SenderRun runEngine(const SocketAddress& sink, size_t payload, int messages) {
  SenderRun run;
  uv_loop_t loop;
  uv_loop_init(&loop);
  lbmail::dns::ResolverConfig rc;
  rc.static_routes.push_back({"example.test", {sink}});
  lbmail::dns::MxResolver resolver(&loop, rc);
  resolver.start();
  delivery::DeliveryConfig config;
  config.client.helo_name = "bench.test";
  config.limits.max_connections = kSessions;
  config.limits.max_messages_per_connection = 1'000'000;
  delivery::DeliveryEngine engine(&loop, config, resolver);

  std::shared_ptr<std::string> body = readyMessage(payload);
  std::vector<smtp::OutgoingMessage> ready(static_cast<size_t>(messages));
  for (int i = 0; i < messages; ++i) {
    smtp::OutgoingMessage& m = ready[static_cast<size_t>(i)];
    m.mail_from = "bench@sender.test";
    m.recipients = {"rcpt" + std::to_string(i) + "@example.test"};
    m.body = {*body};
    m.owner = body;
    m.no_leading_dots = true;
  }
  int delivered = 0, finished = 0;
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  auto t0 = std::chrono::steady_clock::now();
  for (smtp::OutgoingMessage& m : ready) {
    engine.submit("example.test", std::move(m), [&](delivery::DeliveryResult&& r) {
      ++finished;
      delivered += r.outcome == delivery::DeliveryOutcome::kDelivered;
      if (finished == messages) engine.close([&] { resolver.close({}); });
    });
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  getrusage(RUSAGE_SELF, &after);
  run.cpu_seconds = cpuSeconds(after) - cpuSeconds(before);
  uv_loop_close(&loop);
  run.ok = delivered == messages;
  return run;
}

// A fresh smtp-sink on CPU 0 for one sender's run on CPU 1; its CPU time is recorded too.
SenderRun runAgainstSink(size_t payload, int messages, SenderRun (*sender)(const SocketAddress&, size_t, int)) {
  pinTo(0);  // smtp-sink inherits CPU 0
  PostfixSmtpSink sink;
  if (!sink.start()) return {};
  pinTo(1);
  SenderRun run = sender(sink.address(), payload, messages);
  rusage usage{};
  sink.stop(&usage);
  run.sink_cpu_seconds = cpuSeconds(usage);
  return run;
}

void deliveryVsSmtpSource(benchmark::State& state) {
  auto payload = static_cast<size_t>(state.range(0));
  const char* scale = std::getenv("LBMAIL_BENCH_MESSAGES");
  int messages = scale ? std::atoi(scale) : static_cast<int>(state.range(1));
  for (auto _ : state) {
    SenderRun source = runAgainstSink(payload, messages, runSmtpSource);
    SenderRun engine = runAgainstSink(payload, messages, runEngine);
    if (!source.ok || !engine.ok) {
      state.SkipWithError(!engine.ok ? "the engine did not deliver every message" : "smtp-source failed");
      break;
    }
    state.SetIterationTime(engine.seconds);
    double lbmail_rate = messages / engine.seconds, source_rate = messages / source.seconds;
    state.counters["lbmail_msgs_s"] = lbmail_rate;
    state.counters["source_msgs_s"] = source_rate;
    state.counters["rate_ratio"] = lbmail_rate / source_rate;
    state.counters["lbmail_cpu_us"] = engine.cpu_seconds * 1e6 / messages;
    state.counters["source_cpu_us"] = source.cpu_seconds * 1e6 / messages;
    state.counters["sink_cpu_us_lbmail"] = engine.sink_cpu_seconds * 1e6 / messages;
    state.counters["sink_cpu_us_source"] = source.sink_cpu_seconds * 1e6 / messages;
  }
}

BENCHMARK(deliveryVsSmtpSource)
    ->Args({1024, 20000})
    ->Args({20 * 1024, 5000})
    ->Args({100 * 1024, 2000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
