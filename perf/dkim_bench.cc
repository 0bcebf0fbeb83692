// DKIM signing in the gateway against the cost of the signing itself, in the same run.
// First the limits, openssl-speed style on one thread with the keys the gateway will use (made
// by `lbmail dkim keygen`): RSA-2048 and Ed25519 signatures per second (EVP_DigestSign over
// header-sized data) and SHA-256 over 100 KB. Then `lbmail gateway` at 100 KB (the material of
// gateway_bench: personalised text and HTML and one attachment) into Postfix's smtp-sink, four
// times: unsigned, Ed25519, RSA, and dual (RSA and Ed25519). Reported: messages per second and
// the gateway's CPU per message for each, and the target: dual signing at least 0.8x (signer
// threads x the RSA-2048 sign rate). LBMAIL_BENCH_SIGNER_THREADS (default 1) sets the
// gateway's [dkim] signer_threads. As in gateway_bench the receiver runs on CPU 0 and the
// gateway (loop and signer threads) and the driver on CPU 1 (LBMAIL_BENCH_NO_PIN=1: wherever
// the scheduler puts them); so also reported: how much of its one core the gateway used, and
// the signing CPU per message against the crypto alone. Bounded: N messages and 120 s per run.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "bench_summary.h"
#include "child_process.h"
#include "gateway_run.h"
#include "temp_path.h"
#include "validate.h"

namespace {

using namespace lbmail;
using Clock = std::chrono::steady_clock;

constexpr double kMeasureSeconds = 1.0;

struct KeyFiles {
  KeyFiles() : dir(test::tempPath("dkim-bench-keys")) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    ok = keygen("rsa", "r1", rsa) && keygen("ed25519", "e1", ed25519);
  }
  ~KeyFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  bool keygen(const std::string& algorithm, const std::string& selector, std::string& file) {
    file = dir + "/" + selector + ".pem";
    test::ChildProcess child({test::testEnv("LBMAIL_BINARY"), "dkim", "keygen", "--domain", "shop.example",
                              "--selector", selector, "--algorithm", algorithm, "--out", file});
    return test::exitCode(child.wait()) == 0;
  }
  std::string dir, rsa, ed25519;
  bool ok = false;
};

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> readKey(const std::string& file) {
  FILE* f = std::fopen(file.c_str(), "r");
  EVP_PKEY* key = f ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
  if (f) std::fclose(f);
  return {key, EVP_PKEY_free};
}

// Signatures per second on this thread: RSA with SHA-256 as rsa-sha256 signs; Ed25519 over a
// 32-octet digest as ed25519-sha256 does (RFC 8463).
double signRate(const std::string& file, bool rsa) {
  auto key = readKey(file);
  if (!key) return 0;
  std::string data(rsa ? 600 : 32, 'h');
  unsigned char sig[1024];
  int n = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 50; ++i, ++n) {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      size_t len = sizeof sig;
      EVP_DigestSignInit(ctx, nullptr, rsa ? EVP_sha256() : nullptr, nullptr, key.get());
      EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size());
      EVP_MD_CTX_free(ctx);
    }
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < kMeasureSeconds);
  return n / elapsed;
}

// SHA-256 octets per second over 100 KB buffers.
double sha256Rate() {
  std::string data(100 * 1024, 'b');
  unsigned char md[32];
  unsigned int len = 0;
  uint64_t octets = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 100; ++i, octets += data.size()) EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < kMeasureSeconds);
  return static_cast<double>(octets) / elapsed;
}

unsigned signerThreads() {
  const char* t = std::getenv("LBMAIL_BENCH_SIGNER_THREADS");
  return t ? static_cast<unsigned>(std::max(1, std::atoi(t))) : 1u;
}

std::string dkimTable(const KeyFiles& keys, bool rsa, bool ed25519) {
  if (!rsa && !ed25519) return "";
  std::string t = "[dkim]\nsigner_threads = " + std::to_string(signerThreads()) + "\n";
  if (rsa) {
    t += "[[dkim.domain]]\ndomain = \"shop.example\"\nselector = \"r1\"\nalgorithm = \"rsa-sha256\"\nkey_file = \"" +
         keys.rsa + "\"\n";
  }
  if (ed25519) {
    t += "[[dkim.domain]]\ndomain = \"shop.example\"\nselector = \"e1\"\nalgorithm = \"ed25519-sha256\"\n"
         "key_file = \"" + keys.ed25519 + "\"\n";
  }
  return t;
}

void dkimSigning(benchmark::State& state) {
  const char* scale = std::getenv("LBMAIL_BENCH_MESSAGES");
  int messages = scale ? std::atoi(scale) : static_cast<int>(state.range(1));
  perf::BenchCache cache(static_cast<size_t>(state.range(0)));
  size_t message_size = perf::messageSize(cache.dir + "/cache", cache.hash);
  KeyFiles keys;
  if (message_size == 0 || !keys.ok) {
    state.SkipWithError("could not build the bench material or keys (LBMAIL_BINARY?)");
    return;
  }
  struct Variant {
    const char* name;
    bool rsa, ed25519;
  };
  const Variant variants[] = {{"none", false, false}, {"ed25519", false, true}, {"rsa", true, false}, {"dual", true, true}};
  for (auto _ : state) {
    state.counters["rsa_signs_s"] = signRate(keys.rsa, true);
    state.counters["ed25519_signs_s"] = signRate(keys.ed25519, false);
    state.counters["sha256_mb_s"] = sha256Rate() / 1e6;
    state.counters["msg_bytes"] = static_cast<double>(message_size);
    state.counters["signer_threads"] = signerThreads();
    double total_seconds = 0;
    for (const Variant& v : variants) {
      std::string extra = dkimTable(keys, v.rsa, v.ed25519);
      perf::GatewayRun run =
          perf::againstSink([&](const SocketAddress& s) { return perf::runGateway(s, cache, messages, extra); });
      if (!run.ok) {
        state.SkipWithError((std::string("the gateway did not deliver every message: ") + v.name).c_str());
        return;
      }
      total_seconds += run.seconds;
      state.counters[std::string(v.name) + "_msgs_s"] = messages / run.seconds;
      state.counters[std::string(v.name) + "_cpu_us"] = run.cpu_seconds * 1e6 / messages;
      state.counters[std::string(v.name) + "_sink_cpu_us"] = run.sink_cpu_seconds * 1e6 / messages;
    }
    state.SetIterationTime(total_seconds);
  }
}

BENCHMARK(dkimSigning)->Args({100 * 1024, 3000})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void summarise(const perf::Runs& runs) {
  std::printf("\ndkim_bench summary (this run):\n");
  for (const auto& r : runs) {
    if (r.error_occurred || r.counters.count("dual_msgs_s") == 0) continue;
    auto c = [&r](const char* k) { return static_cast<double>(r.counters.at(k)); };
    double threads = c("signer_threads"), rsa = c("rsa_signs_s");
    double limit = threads * rsa, ratio = c("dual_msgs_s") / limit;
    std::printf("  limits on one thread: RSA-2048 %.0f signs/s, Ed25519 %.0f signs/s, SHA-256 %.0f MB/s\n", rsa,
                c("ed25519_signs_s"), c("sha256_mb_s"));
    std::printf("  %.0f-octet messages, %.0f signer thread(s):\n", c("msg_bytes"), threads);
    for (const char* v : {"none", "ed25519", "rsa", "dual"}) {
      std::string n(v);
      std::printf("    %-8s %6.0f msg/s, gateway CPU %4.0f us/msg, smtp-sink CPU %4.0f us/msg\n", v,
                  c((n + "_msgs_s").c_str()), c((n + "_cpu_us").c_str()), c((n + "_sink_cpu_us").c_str()));
    }
    // The crypto a dual-signed message needs at the limits above: what signing can cost at best.
    double crypto_us = 1e6 / rsa + 1e6 / c("ed25519_signs_s") + c("msg_bytes") / c("sha256_mb_s");
    double signing_us = c("dual_cpu_us") - c("none_cpu_us");
    std::printf("  signing CPU per message: dual %.0f us over unsigned, the crypto alone %.0f us (%.2fx)\n",
                signing_us, crypto_us, signing_us / crypto_us);
    // Pinned, the gateway has one core: its rate times its CPU per message is the share it used.
    std::printf("  dual: the gateway used %.2f of a core (%.0f msg/s x %.0f us)\n",
                c("dual_msgs_s") * c("dual_cpu_us") / 1e6, c("dual_msgs_s"), c("dual_cpu_us"));
    std::printf("  dual / (signer threads x RSA rate) = %.0f / %.0f = %.2fx (target >= 0.8) %s\n", c("dual_msgs_s"),
                limit, ratio, ratio >= 0.8 ? "met" : "NOT MET");
  }
}

[[maybe_unused]] const bool kRegistered = perf::setSummary(summarise);

}  // namespace
