// STARTTLS in the gateway against the same gateway in plain, in the same run. `lbmail gateway`
// at 100 KB (the material of gateway_bench: personalised text and HTML and one attachment)
// into `lbmail sink`, twice: plain ([smtp] tls_policy = "none", the sink without a
// certificate) and TLS (tls_policy = "encrypt", the sink with a self-signed certificate, so
// every connection says STARTTLS and carries the messages in TLS records). Reported: messages
// per second, the gateway's and the sink's CPU per message, and TLS handshakes per message
// (the sink's lbmail_sink_tls_sessions_total over the messages: connection reuse and session
// resumption keep it low). Targets: TLS at least 0.8x plain, handshakes per message under
// 0.05. As in gateway_bench the receiver runs on CPU 0 and the gateway and the driver on
// CPU 1 (LBMAIL_BENCH_NO_PIN=1: wherever the scheduler puts them). Bounded: N messages and
// 120 s per run.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench_summary.h"
#include "gateway_run.h"
#include "lbmail/tls/self_signed_certificate.h"
#include "sink_process.h"
#include "sink_test_client.h"
#include "temp_path.h"

namespace {

using namespace lbmail;

// The physical limit beside the runs: AES-256-GCM (the cipher suite OpenSSL's TLS 1.3 picks
// first) octets per second on this thread, over 16 KiB records as TLS seals them.
double aesGcmRate() {
  using Clock = std::chrono::steady_clock;
  unsigned char key[32] = {1}, iv[12] = {2}, tag[16];
  std::string in(16384, 'r'), out(16384 + 32, '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  uint64_t octets = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 200; ++i, octets += in.size()) {
      int n = 0;
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key, iv);
      EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                        reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
      EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n, &n);
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof tag, tag);
    }
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < 1.0);
  EVP_CIPHER_CTX_free(ctx);
  return static_cast<double>(octets) / elapsed;
}

struct SinkRun {
  perf::GatewayRun gateway;
  double tls_sessions = 0;
};

// A fresh lbmail sink on CPU 0 (sink_extra: more [sink] keys), the gateway on CPU 1.
SinkRun againstLbmailSink(const std::string& sink_extra, const perf::BenchCache& cache, int messages,
                          const std::string& smtp_extra) {
  SinkRun run;
  perf::pinTo(0);
  test::SinkProcess sink(sink_extra);
  if (!sink.start()) return run;
  perf::pinTo(1);
  run.gateway = perf::runGateway(sink.smtp(), cache, messages, "", smtp_extra);
  run.tls_sessions = test::metricValue(sink.metrics(), "lbmail_sink_tls_sessions_total");
  rusage usage{};
  sink.stop(&usage);
  run.gateway.sink_cpu_seconds = test::cpuSeconds(usage);
  return run;
}

void starttls(benchmark::State& state) {
  const char* scale = std::getenv("LBMAIL_BENCH_MESSAGES");
  int messages = scale ? std::atoi(scale) : static_cast<int>(state.range(1));
  perf::BenchCache cache(static_cast<size_t>(state.range(0)));
  size_t message_size = perf::messageSize(cache.dir + "/cache", cache.hash);
  std::string dir = test::tempPath("tls-bench");
  std::filesystem::create_directories(dir);
  std::string cert = dir + "/sink.pem", key = dir + "/sink.key";
  std::string error = tls::writeSelfSignedCertificate(cert, key, {"sink.test"});
  if (message_size == 0 || !error.empty()) {
    state.SkipWithError(("could not build the bench material or certificate: " + error).c_str());
    return;
  }
  std::string tls_sink = "tls_certificate = \"" + cert + "\"\ntls_key = \"" + key + "\"\n";
  for (auto _ : state) {
    SinkRun plain = againstLbmailSink("", cache, messages, "tls_policy = \"none\"\n");
    SinkRun tls = againstLbmailSink(tls_sink, cache, messages, "tls_policy = \"encrypt\"\n");
    if (!plain.gateway.ok || !tls.gateway.ok) {
      state.SkipWithError(plain.gateway.ok ? "the TLS run did not deliver every message"
                                           : "the plain run did not deliver every message");
      return;
    }
    state.counters["msg_bytes"] = static_cast<double>(message_size);
    state.counters["aes_gcm_mb_s"] = aesGcmRate() / 1e6;
    for (const auto& [name, r] : {std::pair<const char*, const SinkRun&>{"plain", plain}, {"tls", tls}}) {
      std::string n(name);
      state.counters[n + "_msgs_s"] = messages / r.gateway.seconds;
      state.counters[n + "_cpu_us"] = r.gateway.cpu_seconds * 1e6 / messages;
      state.counters[n + "_sink_cpu_us"] = r.gateway.sink_cpu_seconds * 1e6 / messages;
      state.counters[n + "_driver_cpu_us"] = r.gateway.driver_cpu_seconds * 1e6 / messages;
      state.counters[n + "_handshakes_per_msg"] = r.tls_sessions / messages;
    }
    state.SetIterationTime(plain.gateway.seconds + tls.gateway.seconds);
  }
  std::filesystem::remove_all(dir);
}

BENCHMARK(starttls)->Args({100 * 1024, 3000})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void summarise(const perf::Runs& runs) {
  std::printf("\ntls_bench summary (this run):\n");
  for (const auto& r : runs) {
    if (r.error_occurred || r.counters.count("tls_msgs_s") == 0) continue;
    auto c = [&r](const std::string& k) { return static_cast<double>(r.counters.at(k)); };
    std::printf("  %.0f-octet messages, gateway -> lbmail sink:\n", c("msg_bytes"));
    for (const char* v : {"plain", "tls"}) {
      std::string n(v);
      std::printf("    %-6s %6.0f msg/s, CPU us/msg: gateway %4.0f, sink %4.0f, driver %4.0f; %.4f handshakes/msg\n", v,
                  c(n + "_msgs_s"), c(n + "_cpu_us"), c(n + "_sink_cpu_us"), c(n + "_driver_cpu_us"),
                  c(n + "_handshakes_per_msg"));
    }
    double ratio = c("tls_msgs_s") / c("plain_msgs_s");
    double handshakes = c("tls_handshakes_per_msg");
    // Sealing the message is the least TLS can add on each side; with the gateway's core the
    // bound, plain CPU / (plain CPU + that) is the best ratio any TLS could reach here.
    double crypto_us = c("msg_bytes") / c("aes_gcm_mb_s");
    std::printf("  TLS CPU per message: gateway +%.0f us, sink +%.0f us; AES-256-GCM alone %.0f us (%.0f MB/s)\n",
                c("tls_cpu_us") - c("plain_cpu_us"), c("tls_sink_cpu_us") - c("plain_sink_cpu_us"), crypto_us,
                c("aes_gcm_mb_s"));
    std::printf("  ceiling with the gateway's CPU the bound: %.0f / (%.0f + %.0f) = %.2fx\n", c("plain_cpu_us"),
                c("plain_cpu_us"), crypto_us, c("plain_cpu_us") / (c("plain_cpu_us") + crypto_us));
    std::printf("  TLS / plain = %.2fx (target >= 0.8) %s\n", ratio, ratio >= 0.8 ? "met" : "NOT MET");
    std::printf("  handshakes per message = %.4f (target < 0.05) %s\n", handshakes,
                handshakes < 0.05 ? "met" : "NOT MET");
  }
}

[[maybe_unused]] const bool kRegistered = perf::setSummary(summarise);

}  // namespace
