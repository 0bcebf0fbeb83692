// Admin endpoint CPU cost: request parsing against raw llhttp, routing, and Prometheus rendering.
#include <benchmark/benchmark.h>
#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lbmail/admin/admin_router.h"
#include "lbmail/admin/http_request_reader.h"
#include "lbmail/core/metric.h"
#include "lbmail/core/metrics_registry.h"

namespace {

using lbmail::AdminResponse;
using lbmail::AdminRouter;
using lbmail::Histogram;
using lbmail::HttpRequest;
using lbmail::HttpRequestReader;
using lbmail::HttpRequestSink;
using lbmail::MetricsRegistry;

// What curl 7.88 (Debian 12) sends for `curl http://127.0.0.1:9464/metrics`. HTTP/1.1 without
// "Connection: close" is keep-alive, so one reader can parse it over and over (RFC 9112 §9.3).
constexpr std::string_view kCurlGetMetrics =
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:9464\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr std::string_view kCurlGetHealthz =
    "GET /healthz HTTP/1.1\r\n"
    "Host: 127.0.0.1:9464\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr std::string_view kCurlGetStatus =
    "GET /status?verbose=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:9464\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

constexpr int64_t kBatchRequests = 16;

// A pipelined burst of keep-alive requests arriving in one read, cycling over the three routes
// so the target lengths vary as they would from a monitoring agent.
std::string pipelinedBatch() {
  constexpr std::string_view kRequests[] = {kCurlGetMetrics, kCurlGetHealthz, kCurlGetStatus};
  std::string batch;
  for (int64_t i = 0; i < kBatchRequests; ++i) batch.append(kRequests[i % 3]);
  return batch;
}

// Counts requests and keeps the last target so the parse has an observable result.
class CountingSink final : public HttpRequestSink {
 public:
  void onRequestStarted() override { ++started; }
  bool onRequest(const HttpRequest& request) override {
    ++completed;
    last_path_bytes += request.path.size();
    return true;
  }

  int64_t started = 0;
  int64_t completed = 0;
  size_t last_path_bytes = 0;
};

// Keeps one parsed request's fields in owned storage: HttpRequest holds views into the reader.
class CapturingSink final : public HttpRequestSink {
 public:
  void onRequestStarted() override {}
  bool onRequest(const HttpRequest& request) override {
    method = request.method;
    path = request.path;
    query = request.query;
    http_major = request.http_major;
    http_minor = request.http_minor;
    keep_alive = request.keep_alive;
    ++completed;
    return true;
  }

  HttpRequest view() const {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = query;
    request.http_major = http_major;
    request.http_minor = http_minor;
    request.keep_alive = keep_alive;
    return request;
  }

  std::string method;
  std::string path;
  std::string query;
  uint8_t http_major = 0;
  uint8_t http_minor = 0;
  bool keep_alive = false;
  int completed = 0;
};

void reportThroughput(benchmark::State& state, size_t bytes_per_iteration, int64_t requests_per_iteration) {
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes_per_iteration));
  state.SetItemsProcessed(state.iterations() * requests_per_iteration);
}

// Our reader over a connection that stays open: one reader for the whole run, because
// keep-alive requests leave llhttp back at the start of the next message, exactly as on a
// long-lived scrape connection. With fresh_reader, a new reader per feed, as for curl's one
// request per connection: that adds the reader's construction (llhttp_init, settings).
void parseWithReader(benchmark::State& state, std::string input, int64_t requests_per_feed, bool fresh_reader) {
  std::optional<HttpRequestReader> reader;
  reader.emplace(HttpRequestReader::Limits{});
  CountingSink sink;
  for (auto _ : state) {
    if (fresh_reader) reader.emplace(HttpRequestReader::Limits{});
    HttpRequestReader::Result result = reader->feed(input, sink);
    benchmark::DoNotOptimize(result);
    if (result != HttpRequestReader::Result::kNeedMore) {
      state.SkipWithError("HttpRequestReader stopped or failed on a keep-alive request");
      break;
    }
  }
  benchmark::DoNotOptimize(sink.last_path_bytes);
  if (state.error_occurred()) return;
  if (sink.completed != state.iterations() * requests_per_feed || sink.started != sink.completed) {
    state.SkipWithError("HttpRequestReader did not deliver the expected number of requests");
    return;
  }
  reportThroughput(state, input.size(), requests_per_feed);
}

// The floor: llhttp with no callbacks but one that counts completed messages, which the check
// below needs. The ratio to parseWithReader is what our limits and request assembly cost.
int countMessage(llhttp_t* parser) {
  ++*static_cast<int64_t*>(parser->data);
  return 0;
}

void parseWithLlhttp(benchmark::State& state, std::string input, int64_t requests_per_feed, bool fresh) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_message_complete = countMessage;
  llhttp_t parser;
  int64_t completed = 0;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  parser.data = &completed;
  for (auto _ : state) {
    if (fresh) {
      llhttp_init(&parser, HTTP_REQUEST, &settings);
      parser.data = &completed;
    }
    llhttp_errno_t err = llhttp_execute(&parser, input.data(), input.size());
    benchmark::DoNotOptimize(err);
    if (err != HPE_OK) {
      state.SkipWithError(llhttp_errno_name(err));
      break;
    }
  }
  benchmark::DoNotOptimize(completed);
  if (state.error_occurred()) return;
  if (completed != state.iterations() * requests_per_feed) {
    state.SkipWithError("llhttp did not complete the expected number of requests");
    return;
  }
  reportThroughput(state, input.size(), requests_per_feed);
}

BENCHMARK_CAPTURE(parseWithReader, single, std::string(kCurlGetMetrics), 1, false);
BENCHMARK_CAPTURE(parseWithLlhttp, single, std::string(kCurlGetMetrics), 1, false);
BENCHMARK_CAPTURE(parseWithReader, batch16, pipelinedBatch(), kBatchRequests, false);
BENCHMARK_CAPTURE(parseWithLlhttp, batch16, pipelinedBatch(), kBatchRequests, false);
BENCHMARK_CAPTURE(parseWithReader, singleFresh, std::string(kCurlGetMetrics), 1, true);
BENCHMARK_CAPTURE(parseWithLlhttp, singleFresh, std::string(kCurlGetMetrics), 1, true);

// Series in the proportions of a gateway node: per `series` counters, a fifth as many gauges
// and a tenth as many latency histograms, in families of ten (five for histograms) so HELP and
// TYPE lines recur as they do in a real scrape. Values are non-zero so numbers have digits.
size_t fillRegistry(MetricsRegistry& registry, size_t series) {
  static constexpr const char* kResults[] = {"delivered", "deferred", "bounced", "rejected", "timeout"};
  size_t counters = series;
  size_t gauges = series / 5 > 0 ? series / 5 : 1;
  size_t histograms = series / 10 > 0 ? series / 10 : 1;
  for (size_t i = 0; i < counters; ++i) {
    std::string name = "lbmail_gateway_messages_" + std::to_string(i / 10) + "_total";
    registry
        .counter(name, "Messages handed to a gateway, by outcome.",
                 {{"gateway", "gw-" + std::to_string(i / 5)}, {"result", kResults[i % 5]}})
        .inc((i + 1) * 1000003 % 987654321);
  }
  for (size_t i = 0; i < gauges; ++i) {
    std::string name = "lbmail_gateway_queue_depth_" + std::to_string(i / 10);
    registry.gauge(name, "Messages waiting for a gateway slot.", {{"gateway", "gw-" + std::to_string(i)}})
        .set(static_cast<double>(i) * 1.5 + 0.25);
  }
  for (size_t i = 0; i < histograms; ++i) {
    std::string name = "lbmail_delivery_duration_seconds_" + std::to_string(i / 5);
    Histogram& h = registry.histogram(name, "Time from hand-off to the gateway's final reply.",
                                      Histogram::latencySecondsBounds(), {{"gateway", "gw-" + std::to_string(i)}});
    for (int k = 0; k < 64; ++k) h.observe(0.0001 * static_cast<double>((k * 37 + static_cast<int>(i)) % 5000));
  }
  return counters + gauges + histograms;
}

// One output buffer for the whole run, cleared each time: after the first render it has the
// capacity it needs, so the figure is the steady state of a scrape without reallocation.
void renderPrometheus(benchmark::State& state) {
  MetricsRegistry registry;
  size_t series = fillRegistry(registry, static_cast<size_t>(state.range(0)));
  std::string out;
  registry.renderPrometheus(out);
  const size_t expected_bytes = out.size();
  const size_t warm_capacity = out.capacity();
  for (auto _ : state) {
    out.clear();
    registry.renderPrometheus(out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (out.size() != expected_bytes) {
      state.SkipWithError("rendered size changed between scrapes of an unchanged registry");
      break;
    }
  }
  if (state.error_occurred()) return;
  if (expected_bytes == 0) {
    state.SkipWithError("registry rendered nothing");
    return;
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(expected_bytes));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(series));
  state.counters["bytes_per_scrape"] = static_cast<double>(expected_bytes);
  state.counters["grew"] = out.capacity() != warm_capacity ? 1 : 0;
}

BENCHMARK(renderPrometheus)->Arg(10)->Arg(100)->Arg(1000);

// The routes the admin server registers; /metrics renders a 100-counter registry.
class AdminRoutes {
 public:
  AdminRoutes() {
    fillRegistry(registry_, 100);
    router_.add("/healthz", [](const HttpRequest&, AdminResponse& r) { r.body = "ok\n"; });
    router_.add("/metrics", [this](const HttpRequest&, AdminResponse& r) {
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      registry_.renderPrometheus(r.body);
    });
  }
  const AdminRouter& router() const { return router_; }

 private:
  MetricsRegistry registry_;
  AdminRouter router_;
};

// Routing and response framing for a request our reader parsed (fields copied out once).
void respond(benchmark::State& state, std::string_view raw_request, int expected_status) {
  AdminRoutes routes;
  HttpRequestReader reader(HttpRequestReader::Limits{});
  CapturingSink parsed;
  if (reader.feed(raw_request, parsed) != HttpRequestReader::Result::kNeedMore || parsed.completed != 1) {
    state.SkipWithError("the request to route did not parse");
    return;
  }
  const HttpRequest request = parsed.view();
  std::string out;
  size_t response_bytes = 0;
  for (auto _ : state) {
    out.clear();
    int status = routes.router().respond(request, !request.keep_alive, out);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(out.data());
    if (status != expected_status) {
      state.SkipWithError("router answered with an unexpected status");
      break;
    }
    response_bytes = out.size();
  }
  if (state.error_occurred()) return;
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(response_bytes));
  state.SetItemsProcessed(state.iterations());
}

constexpr std::string_view kCurlGetMissing =
    "GET /nope HTTP/1.1\r\n"
    "Host: 127.0.0.1:9464\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

BENCHMARK_CAPTURE(respond, healthz, kCurlGetHealthz, 200);
BENCHMARK_CAPTURE(respond, notFound, kCurlGetMissing, 404);
BENCHMARK_CAPTURE(respond, metrics100, kCurlGetMetrics, 200);

// A whole keep-alive request cycle without the socket: bytes in, response bytes out.
class RespondingSink final : public HttpRequestSink {
 public:
  RespondingSink(const AdminRouter& router, std::string& out) : router_(router), out_(out) {}
  void onRequestStarted() override {}
  bool onRequest(const HttpRequest& request) override {
    last_status = router_.respond(request, !request.keep_alive, out_);
    ++completed;
    return true;
  }

  int last_status = 0;
  int64_t completed = 0;

 private:
  const AdminRouter& router_;
  std::string& out_;
};

void parseAndRespond(benchmark::State& state, std::string input, int64_t requests_per_feed) {
  AdminRoutes routes;
  HttpRequestReader reader(HttpRequestReader::Limits{});
  std::string out;
  RespondingSink sink(routes.router(), out);
  for (auto _ : state) {
    out.clear();
    HttpRequestReader::Result result = reader.feed(input, sink);
    benchmark::DoNotOptimize(result);
    benchmark::DoNotOptimize(out.data());
    if (result != HttpRequestReader::Result::kNeedMore || sink.last_status != 200) {
      state.SkipWithError("keep-alive request was not answered with 200");
      break;
    }
  }
  if (state.error_occurred()) return;
  if (sink.completed != state.iterations() * requests_per_feed) {
    state.SkipWithError("reader did not deliver the expected number of requests to the router");
    return;
  }
  reportThroughput(state, input.size(), requests_per_feed);
}

BENCHMARK_CAPTURE(parseAndRespond, healthz, std::string(kCurlGetHealthz), 1);

}  // namespace
