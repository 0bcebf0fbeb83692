// Link frame codec speed: SEND and RESULT encode and decode, frames per second on one core.
// Target: at least 5 million SEND decodes per second per core. The floor beside them copies
// the same bytes with memcpy, so the ratio shows what parsing adds to touching the bytes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "lbmail/proto/frame_codec.h"

namespace {

using namespace lbmail;
using namespace lbmail::proto;

const MergeField kFields[] = {{"first_name", "Alice"}, {"last_name", "Martin"}, {"offer", "SPRING24"}};

SendFrame typicalSend() {
  SendFrame s;
  s.request_id = 1234567;
  s.sender = "bounces+c42@news.example.com";
  s.recipient = "alice.martin@example.org";
  s.material_id = 3;
  s.fields = MergeFields(kFields);
  s.deadline_ms = 3'600'000;
  return s;
}

ResultFrame typicalResult() {
  ResultFrame r;
  r.request_id = 1234567;
  r.outcome = Outcome::kDelivered;
  r.smtp_code = 250;
  r.enhanced_code = "2.0.0";
  r.reply = "2.0.0 Ok: queued as 4Xk9Z2";
  r.mx_host = "mx1.example.org";
  r.timings = {120, 900, 350, 2100, 3470};
  return r;
}

template <typename F>
std::vector<uint8_t> encoded(const F& f) {
  BufferList b;
  encodeFrame(b, f);
  std::vector<uint8_t> out;
  for (const uv_buf_t& u : b.uvBufs()) out.insert(out.end(), u.base, u.base + u.len);
  return out;
}

// Split, decode and read every field, as the gateway does for each request.
void decodeSend(benchmark::State& state) {
  std::vector<uint8_t> bytes = encoded(typicalSend());
  size_t field_bytes = 0;
  for (auto _ : state) {
    SplitResult s = splitFrame(bytes, kDefaultMaxPayload);
    auto f = decodePayload(s.header.type, s.payload);
    if (!f) {
      state.SkipWithError("SEND did not decode");
      break;
    }
    const SendFrame& send = std::get<SendFrame>(*f);
    send.fields.forEach([&](const MergeField& m) { field_bytes += m.value.size(); });
    benchmark::DoNotOptimize(send.recipient.data());
  }
  benchmark::DoNotOptimize(field_bytes);
  if (!state.error_occurred() && field_bytes != static_cast<size_t>(state.iterations()) * 19) {
    state.SkipWithError("merge fields were not all read");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  state.counters["frame_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(decodeSend);

void decodeResult(benchmark::State& state) {
  std::vector<uint8_t> bytes = encoded(typicalResult());
  for (auto _ : state) {
    SplitResult s = splitFrame(bytes, kDefaultMaxPayload);
    auto f = decodePayload(s.header.type, s.payload);
    if (!f) {
      state.SkipWithError("RESULT did not decode");
      break;
    }
    benchmark::DoNotOptimize(std::get<ResultFrame>(*f).timings.total_us);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["frame_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(decodeResult);

// Encoding appends to a buffer list as a link does between two writes; the list is cleared
// every 1,000 frames, as a flush would empty it.
template <typename F>
void encodeMany(benchmark::State& state, const F& frame) {
  BufferList out;
  size_t n = 0;
  for (auto _ : state) {
    encodeFrame(out, frame);
    if (++n % 1000 == 0) out.clear();
  }
  benchmark::DoNotOptimize(out.size());
  state.SetItemsProcessed(state.iterations());
}
void encodeSend(benchmark::State& state) { encodeMany(state, typicalSend()); }
void encodeResult(benchmark::State& state) { encodeMany(state, typicalResult()); }
BENCHMARK(encodeSend);
BENCHMARK(encodeResult);

// The floor: copying the SEND frame's bytes without parsing them.
void copySendBytes(benchmark::State& state) {
  std::vector<uint8_t> bytes = encoded(typicalSend());
  std::vector<uint8_t> dst(bytes.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), bytes.data(), bytes.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(copySendBytes);

}  // namespace
