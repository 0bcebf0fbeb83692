// Feedback's CPU cost: minting and checking a token (the initiator mints two per message),
// against OpenSSL's own HMAC-SHA256 over the same 14 bytes, the floor a token cannot go under;
// and reading a real Postfix DSN against one pass of memchr over its bytes.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>
#include <string>

#include "lbmail/feedback/feedback_key.h"
#include "lbmail/feedback/feedback_report.h"
#include "lbmail/feedback/feedback_token.h"
#include "report_samples.h"

namespace {

using lbmail::feedback::FeedbackKey;

const FeedbackKey& benchKey() {
  static const FeedbackKey key = FeedbackKey::fromSecret(std::string(32, 'k'), 1);
  return key;
}

lbmail::feedback::TokenFields fields(uint64_t recipient) {
  return {lbmail::feedback::TokenPurpose::kBounce, 7, recipient, 1, 20'000};
}

void BM_MintToken(benchmark::State& state) {
  std::string out;
  out.reserve(64);
  uint64_t recipient = 0;
  for (auto _ : state) {
    out.clear();
    lbmail::feedback::appendToken(benchKey(), fields(++recipient), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MintToken);

void BM_VerifyToken(benchmark::State& state) {
  std::string token = lbmail::feedback::mintToken(benchKey(), fields(42));
  lbmail::feedback::TokenCheck check{lbmail::feedback::TokenPurpose::kBounce, 20'000, 30};
  for (auto _ : state) {
    auto f = lbmail::feedback::verifyToken({&benchKey(), 1}, token, check);
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyToken);

// The floor: OpenSSL's one-shot HMAC-SHA256 of 14 bytes, nothing else.
void BM_OpenSslHmacSha256(benchmark::State& state) {
  std::array<uint8_t, 14> data{};
  std::array<uint8_t, EVP_MAX_MD_SIZE> mac{};
  const std::string& secret = benchKey().secret();
  for (auto _ : state) {
    unsigned int len = 0;
    data[5]++;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), data.data(), data.size(), mac.data(), &len);
    benchmark::DoNotOptimize(mac.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenSslHmacSha256);

void BM_ReadPostfixDsn(benchmark::State& state) {
  std::string dsn = lbmail::feedback::samples::crlf(lbmail::feedback::samples::kPostfixHardDsn);
  for (auto _ : state) {
    auto report = lbmail::feedback::readReport(dsn);
    benchmark::DoNotOptimize(report);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * dsn.size()));
}
BENCHMARK(BM_ReadPostfixDsn);

// The floor for any reader: one memchr pass over the same bytes, line by line.
void BM_ScanLinesOfPostfixDsn(benchmark::State& state) {
  std::string dsn = lbmail::feedback::samples::crlf(lbmail::feedback::samples::kPostfixHardDsn);
  for (auto _ : state) {
    size_t lines = 0;
    const char* p = dsn.data();
    const char* end = p + dsn.size();
    while (const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
      p = static_cast<const char*>(nl) + 1;
      ++lines;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * dsn.size()));
}
BENCHMARK(BM_ScanLinesOfPostfixDsn);

}  // namespace
