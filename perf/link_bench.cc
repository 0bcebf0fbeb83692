// The link between two processes over loopback, TLS against plaintext in the same run:
// - linkRoundTrips: SEND→RESULT round trips per second. An echo gateway process answers every
//   SEND at once (no delivery); the initiator keeps the granted credit (4,096, re-granted in
//   batches of 256) in use. The real link (GatewayLink / LinkAcceptor over TLS 1.3) and the
//   plaintext benchmark link (plain_link.h: same codec, batching and credit, no TLS) run in
//   alternate rounds, so that both see the same machine; medians are reported, with the CPU
//   and the octets on the wire per round trip.
//   Targets: 300,000 per second; TLS at least 0.8x plaintext (issue 17).
// - linkSetups: links opened one after another (connect, TLS handshake, HELLO both ways,
//   close): wall time and CPU per link on each side, against the plaintext link's connect,
//   first frame and close (the TCP floor). Links are long-lived: this is paid once per link.
// - cipherFloor: AES-128-GCM (the suite the links negotiate) over full 16 KiB records on one
//   core, the cost no TLS implementation can avoid; the summary turns it into nanoseconds per
//   round trip and the best TLS/plaintext ratio the cipher leaves.
// Bounded: a fixed number of requests and links, and a deadline per run after which the run
// is an error.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_summary.h"
#include "echo_gateway_process.h"
#include "lbmail/core/log.h"
#include "lbmail/proto/gateway_link.h"
#include "link_bench_security.h"
#include "plain_link.h"
#include "tcp_wire_bytes.h"

namespace {

using namespace lbmail;
using namespace lbmail::proto;
using lbmail::perf::EchoGatewayProcess;
using lbmail::perf::LinkKind;
using lbmail::perf::PlainLink;
using Clock = std::chrono::steady_clock;

constexpr auto kRunDeadline = std::chrono::seconds(60);

SocketAddress loopbackPort(uint16_t port) { return *SocketAddress::parse("127.0.0.1:" + std::to_string(port)); }

LinkSettings initiatorSettings() {
  LinkSettings s;
  s.node_name = "bench-init";
  return s;
}

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// ---- one run against a fresh gateway process ----

struct Loop {
  Loop() { uv_loop_init(&uv); }
  ~Loop() { uv_loop_close(&uv); }
  uv_loop_t uv;
};

struct CpuSpent {
  double initiator_s = 0;
  double gateway_s = 0;
};

// One run against a fresh gateway process of kind: Side (built on the loop with the gateway's
// port and progress; start, stop, finished) runs until it has finished or the deadline passed,
// then everything closes. The CPU both processes spent meanwhile; nullopt, with error set, when
// the gateway did not start or stopped answering.
template <typename Side, typename Progress>
std::optional<CpuSpent> runAgainstGateway(LinkKind kind, Progress& progress, std::string& error) {
  EchoGatewayProcess gateway(kind);
  auto gateway_before = gateway.cpuSeconds();
  if (!gateway_before) {
    error = "echo gateway did not start";
    return std::nullopt;
  }
  progress.watch(gateway.port());
  Loop loop;
  Side side(&loop.uv, gateway.port(), progress);
  double before = perf::processCpuSeconds();
  uv_timer_t deadline;
  uv_timer_init(&loop.uv, &deadline);
  bool expired = false;
  deadline.data = &expired;
  uv_timer_start(&deadline, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
                 std::chrono::milliseconds(kRunDeadline).count(), 0);
  side.start();
  while (!side.finished() && !expired) uv_run(&loop.uv, UV_RUN_ONCE);
  side.stop();
  uv_close(asHandle(&deadline), nullptr);
  uv_run(&loop.uv, UV_RUN_DEFAULT);  // until every handle has closed
  double after = perf::processCpuSeconds();
  auto gateway_after = gateway.cpuSeconds();
  if (!gateway_after) {
    error = "echo gateway stopped answering";
    return std::nullopt;
  }
  return CpuSpent{after - before, *gateway_after - *gateway_before};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The median of one field over samples.
template <typename Sample>
double medianOf(const std::vector<Sample>& samples, double Sample::*field) {
  std::vector<double> v;
  for (const Sample& s : samples) v.push_back(s.*field);
  return median(v);
}

// The benchmark's rounds (its second argument): plaintext then TLS, each against a fresh gateway
// process. False, with the error reported, when a run failed.
template <typename Sample>
bool alternate(benchmark::State& state, const std::function<Sample(LinkKind)>& measure, std::vector<Sample>& plain,
               std::vector<Sample>& tls) {
  for (auto _ : state) {
    for (int64_t i = 0; i < state.range(1); ++i) {
      plain.push_back(measure(LinkKind::kPlain));
      tls.push_back(measure(LinkKind::kTls));
      for (const auto& [name, sample] : {std::pair{"plaintext: ", &plain.back()}, std::pair{"TLS: ", &tls.back()}}) {
        if (sample->error.empty()) continue;
        state.SkipWithError((name + sample->error).c_str());
        return false;
      }
    }
  }
  return true;
}

// ---- SEND→RESULT round trips ----

struct RoundTripSample {
  double per_s = 0;
  double initiator_cpu_ns = 0;  // per round trip, the link's set-up included
  double gateway_cpu_ns = 0;
  double wire_bytes = 0;  // both ways, per round trip
  std::string error;
};

// The initiator's side, whatever the link: keeps the credit in use until `total` RESULTs came back.
class RequestPump {
 public:
  explicit RequestPump(uint64_t total) : total_(total) {}
  // The gateway's port, to read the connection's octets on the wire.
  void watch(uint16_t port) { port_ = port; }

  template <typename Link>
  void onUp(Link& link) {
    started_ = Clock::now();
    fill(link);
  }
  template <typename Link>
  void onFrame(Link& link, const Frame& frame) {
    if (std::holds_alternative<ResultFrame>(frame) && ++results_ == total_) {
      finished_ = Clock::now();
      wire_ = perf::wireBytesToPort(port_);  // while the connection is still open
      return;
    }
    fill(link);
  }
  bool finished() const { return results_ == total_; }
  double perSecond() const { return static_cast<double>(total_) / seconds(started_, finished_); }
  double wireBytes() const { return wire_ ? static_cast<double>(wire_->total()) : 0; }

 private:
  template <typename Link>
  void fill(Link& link) {
    while (sent_ < total_ && link.sendRequest(request(sent_))) ++sent_;
  }
  // The typical request: the same shape as proto_bench's.
  SendFrame request(uint64_t id) const {
    SendFrame s;
    s.request_id = id;
    s.sender = "bounces+c42@news.example.com";
    s.recipient = "alice.martin@example.org";
    s.material_id = 3;
    s.fields = MergeFields(fields_);
    s.deadline_ms = 3'600'000;
    return s;
  }

  const MergeField fields_[3] = {{"first_name", "Alice"}, {"last_name", "Martin"}, {"offer", "SPRING24"}};
  uint64_t total_;
  uint16_t port_ = 0;
  uint64_t sent_ = 0;
  uint64_t results_ = 0;
  Clock::time_point started_, finished_;
  std::optional<perf::WireBytes> wire_;
};

// The product's initiator link: GatewayLink over TLS.
class TlsInitiator final : public GatewayLink::Handler {
 public:
  TlsInitiator(uv_loop_t* loop, uint16_t port, RequestPump& pump)
      : link_(loop, config(port), perf::benchSecurity(Role::kInitiator), *this), pump_(pump) {}
  void start() { link_.start(); }
  void stop() { link_.stop([] {}); }
  bool finished() const { return pump_.finished(); }
  void onGatewayUp(GatewayLink& link) override { pump_.onUp(link); }
  void onGatewayFrame(GatewayLink& link, const Frame& frame) override { pump_.onFrame(link, frame); }

 private:
  static GatewayLinkConfig config(uint16_t port) {
    GatewayLinkConfig c;
    c.gateway = loopbackPort(port);
    c.link = initiatorSettings();
    return c;
  }
  GatewayLink link_;
  RequestPump& pump_;
};

class PlainInitiator final : public PlainLink::Handler {
 public:
  PlainInitiator(uv_loop_t* loop, uint16_t port, RequestPump& pump)
      : link_(loop, Role::kInitiator, *this), port_(port), pump_(pump) {}
  void start() { link_.connect(loopbackPort(port_)); }
  void stop() { link_.close(); }
  bool finished() const { return pump_.finished(); }
  void onPlainUp(PlainLink& link) override { pump_.onUp(link); }
  void onPlainFrame(PlainLink& link, const Frame& frame) override { pump_.onFrame(link, frame); }
  void onPlainClosed(PlainLink&) override {}

 private:
  PlainLink link_;
  uint16_t port_;
  RequestPump& pump_;
};

template <typename Initiator>
RoundTripSample measureRoundTrips(LinkKind kind, uint64_t total) {
  RoundTripSample sample;
  RequestPump pump(total);
  auto cpu = runAgainstGateway<Initiator>(kind, pump, sample.error);
  if (cpu && !pump.finished()) sample.error = "not every request got its RESULT before the deadline";
  if (!sample.error.empty()) return sample;
  auto n = static_cast<double>(total);
  sample.per_s = pump.perSecond();
  sample.initiator_cpu_ns = cpu->initiator_s * 1e9 / n;
  sample.gateway_cpu_ns = cpu->gateway_s * 1e9 / n;
  sample.wire_bytes = pump.wireBytes() / n;
  return sample;
}

void linkRoundTrips(benchmark::State& state) {
  logger().setLevel(LogLevel::kError);
  auto total = static_cast<uint64_t>(state.range(0));
  std::function<RoundTripSample(LinkKind)> measure = [&](LinkKind kind) {
    return kind == LinkKind::kTls ? measureRoundTrips<TlsInitiator>(kind, total)
                                  : measureRoundTrips<PlainInitiator>(kind, total);
  };
  std::vector<RoundTripSample> tls, plain;
  if (!alternate(state, measure, plain, tls)) return;
  std::vector<double> ratios;
  for (size_t i = 0; i < tls.size(); ++i) ratios.push_back(tls[i].per_s / plain[i].per_s);
  auto& c = state.counters;
  c["tls_per_s"] = medianOf(tls, &RoundTripSample::per_s);
  c["plain_per_s"] = medianOf(plain, &RoundTripSample::per_s);
  c["tls_vs_plain"] = c["tls_per_s"] / c["plain_per_s"];
  c["ratio_min"] = *std::min_element(ratios.begin(), ratios.end());
  c["ratio_max"] = *std::max_element(ratios.begin(), ratios.end());
  c["tls_init_cpu_ns"] = medianOf(tls, &RoundTripSample::initiator_cpu_ns);
  c["tls_gw_cpu_ns"] = medianOf(tls, &RoundTripSample::gateway_cpu_ns);
  c["plain_init_cpu_ns"] = medianOf(plain, &RoundTripSample::initiator_cpu_ns);
  c["plain_gw_cpu_ns"] = medianOf(plain, &RoundTripSample::gateway_cpu_ns);
  c["tls_wire_B"] = medianOf(tls, &RoundTripSample::wire_bytes);
  c["plain_wire_B"] = medianOf(plain, &RoundTripSample::wire_bytes);
}
BENCHMARK(linkRoundTrips)
    ->ArgNames({"requests", "rounds"})
    ->Args({300'000, 5})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// ---- link set-up ----

struct SetupSample {
  double wall_us = 0;  // per link, from connect to closed
  double initiator_cpu_us = 0;
  double gateway_cpu_us = 0;
  double wire_bytes = 0;  // the first link's, both ways, when it was up
  std::string error;
};

// Links opened one after another, each closed as soon as it is up: counts and times them.
class SetupSeries {
 public:
  explicit SetupSeries(int links) : links_(links) {}
  void watch(uint16_t port) { port_ = port; }
  void start() { started_ = Clock::now(); }
  void up() {
    if (up_++ == 0) wire_ = perf::wireBytesToPort(port_);
  }
  // True when the next link is to be opened.
  bool closed(std::string_view reason) {
    if (++closed_ != up_ && error_.empty()) error_ = "a link closed before it was up: " + std::string(reason);
    if (closed_ == links_) finished_ = Clock::now();
    return !stopping_ && !finished();
  }
  void stop() { stopping_ = true; }
  bool finished() const { return closed_ == links_ || !error_.empty(); }
  const std::string& error() const { return error_; }
  double secondsPerLink() const { return seconds(started_, finished_) / links_; }
  double wireBytes() const { return wire_ ? static_cast<double>(wire_->total()) : 0; }

 private:
  int links_;
  uint16_t port_ = 0;
  int up_ = 0;
  int closed_ = 0;
  bool stopping_ = false;
  std::string error_;
  Clock::time_point started_, finished_;
  std::optional<perf::WireBytes> wire_;
};

// Opens links one after another into a series, each as soon as the one before has closed.
template <typename Link>
class SetupRunner {
 public:
  SetupRunner(uv_loop_t* loop, uint16_t port, SetupSeries& series) : loop_(loop), port_(port), series_(series) {}
  virtual ~SetupRunner() = default;
  void start() {
    series_.start();
    next();
  }
  void stop() {
    series_.stop();
    if (link_) abort(*link_);
  }
  bool finished() const { return series_.finished(); }

 protected:
  virtual std::unique_ptr<Link> open(uv_loop_t* loop) = 0;
  virtual void abort(Link& link) = 0;
  void linkUp() { series_.up(); }
  // From the link's last callback: every handle is closed, so the link may go.
  void linkClosed(std::string_view reason) {
    bool again = series_.closed(reason);
    link_.reset();
    if (again) next();
  }

 private:
  void next() {
    link_ = open(loop_);
    link_->connect(loopbackPort(port_));
  }

  uv_loop_t* loop_;
  uint16_t port_;
  SetupSeries& series_;
  std::unique_ptr<Link> link_;
};

// The product's link: LinkConnection, TLS handshake and HELLO both ways, then GOODBYE.
class TlsSetups final : public SetupRunner<LinkConnection>, private LinkConnection::Handler {
 public:
  using SetupRunner::SetupRunner;

 private:
  std::unique_ptr<LinkConnection> open(uv_loop_t* loop) override {
    return std::make_unique<LinkConnection>(loop, Role::kInitiator, initiatorSettings(),
                                            perf::benchSecurity(Role::kInitiator), handler());
  }
  LinkConnection::Handler& handler() { return *this; }  // a private base: converted here
  void abort(LinkConnection& link) override { link.abort("benchmark stopped"); }
  void onLinkUp(LinkConnection& link) override {
    linkUp();
    link.close(GoodbyeReason::kShutdown, "benchmark: next link");
  }
  void onLinkFrame(LinkConnection&, const Frame&) override {}
  void onLinkClosed(LinkConnection&, std::string_view reason) override { linkClosed(reason); }
};

// The floor: the plaintext link, up once the gateway's first frame (its CREDIT) arrived, as the
// TLS link is once the gateway's HELLO arrived; then closed.
class PlainSetups final : public SetupRunner<PlainLink>, private PlainLink::Handler {
 public:
  using SetupRunner::SetupRunner;

 private:
  std::unique_ptr<PlainLink> open(uv_loop_t* loop) override {
    return std::make_unique<PlainLink>(loop, Role::kInitiator, handler());
  }
  PlainLink::Handler& handler() { return *this; }
  void abort(PlainLink& link) override { link.close(); }
  void onPlainUp(PlainLink&) override {}
  void onPlainFrame(PlainLink& link, const Frame&) override {
    linkUp();
    link.close();
  }
  void onPlainClosed(PlainLink& link) override { linkClosed(link.error() ? link.error() : "closed"); }
};

template <typename Setups>
SetupSample measureSetups(LinkKind kind, int links) {
  SetupSample sample;
  SetupSeries series(links);
  auto cpu = runAgainstGateway<Setups>(kind, series, sample.error);
  if (cpu && !series.finished()) sample.error = "the links were not all set up before the deadline";
  if (cpu && !series.error().empty()) sample.error = series.error();
  if (!sample.error.empty()) return sample;
  sample.wall_us = series.secondsPerLink() * 1e6;
  sample.initiator_cpu_us = cpu->initiator_s * 1e6 / links;
  sample.gateway_cpu_us = cpu->gateway_s * 1e6 / links;
  sample.wire_bytes = series.wireBytes();
  return sample;
}

void linkSetups(benchmark::State& state) {
  logger().setLevel(LogLevel::kError);
  auto links = static_cast<int>(state.range(0));
  std::function<SetupSample(LinkKind)> measure = [&](LinkKind kind) {
    return kind == LinkKind::kTls ? measureSetups<TlsSetups>(kind, links) : measureSetups<PlainSetups>(kind, links);
  };
  std::vector<SetupSample> tls, plain;
  if (!alternate(state, measure, plain, tls)) return;
  auto& c = state.counters;
  c["tls_wall_us"] = medianOf(tls, &SetupSample::wall_us);
  c["tls_init_cpu_us"] = medianOf(tls, &SetupSample::initiator_cpu_us);
  c["tls_gw_cpu_us"] = medianOf(tls, &SetupSample::gateway_cpu_us);
  c["tls_setup_B"] = medianOf(tls, &SetupSample::wire_bytes);
  c["plain_wall_us"] = medianOf(plain, &SetupSample::wall_us);
  c["plain_init_cpu_us"] = medianOf(plain, &SetupSample::initiator_cpu_us);
  c["plain_gw_cpu_us"] = medianOf(plain, &SetupSample::gateway_cpu_us);
}
BENCHMARK(linkSetups)->ArgNames({"links", "rounds"})->Args({200, 3})->Iterations(1)->Unit(benchmark::kMillisecond);

// ---- the cipher's own cost ----

constexpr int kRecordBytes = 16384;  // a full TLS record (RFC 8446 section 5.1)

void cipherFloor(benchmark::State& state) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  unsigned char key[16] = {}, iv[12] = {}, tag[16];
  std::vector<unsigned char> in(kRecordBytes, 'x'), out(kRecordBytes);
  EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key, iv);
  for (auto _ : state) {
    int len = 0;
    ++iv[11];  // a fresh nonce per record, as TLS 1.3 derives one from the sequence number
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
    EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), kRecordBytes);
    EVP_EncryptFinal_ex(ctx, out.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof tag, tag);
    benchmark::DoNotOptimize(tag);
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(state.iterations() * kRecordBytes);
}
BENCHMARK(cipherFloor)->Unit(benchmark::kNanosecond);

// ---- the side-by-side summary ----

const benchmark::BenchmarkReporter::Run* runOf(const perf::Runs& runs, const char* function) {
  for (const auto& r : runs) {
    if (r.run_name.function_name == function && !r.error_occurred) return &r;
  }
  return nullptr;
}

void printSummary(const perf::Runs& runs) {
  if (const auto* r = runOf(runs, "linkRoundTrips")) {
    auto c = [&](const char* name) { return static_cast<double>(r->counters.at(name)); };
    double ratio = c("tls_vs_plain");
    std::printf(
        "SEND->RESULT round trips (%s), medians of alternate rounds:\n"
        "  TLS %.2f M/s, plaintext %.2f M/s: TLS/plaintext %.2fx (rounds %.2f-%.2f; target >= 0.8: %s)\n"
        "  CPU per round trip: TLS initiator %.0f ns, gateway %.0f ns; plaintext initiator %.0f ns, gateway %.0f ns\n"
        "  octets on the wire per round trip (both ways): TLS %.1f, plaintext %.1f\n",
        r->run_name.args.c_str(), c("tls_per_s") / 1e6, c("plain_per_s") / 1e6, ratio, c("ratio_min"),
        c("ratio_max"), ratio >= 0.8 ? "met" : "NOT MET", c("tls_init_cpu_ns"), c("tls_gw_cpu_ns"),
        c("plain_init_cpu_ns"), c("plain_gw_cpu_ns"), c("tls_wire_B"), c("plain_wire_B"));
  }
  const auto* cipher = runOf(runs, "cipherFloor");
  const auto* trips = runOf(runs, "linkRoundTrips");
  if (cipher && trips) {
    auto c = [&](const char* name) { return static_cast<double>(trips->counters.at(name)); };
    double ns_per_byte = cipher->GetAdjustedCPUTime() / kRecordBytes;  // the run's unit is ns
    // Each side encrypts what it sends and decrypts what it receives: every octet once.
    double floor_ns = ns_per_byte * c("tls_wire_B");
    std::printf(
        "  the cipher alone (AES-128-GCM, %.2f GB/s on one core): %.0f ns per round trip on each side; on CPU\n"
        "  alone TLS/plaintext is then at best %.2fx (initiator side), %.2fx (gateway side), however thin the\n"
        "  TLS layer around it\n",
        1 / ns_per_byte, floor_ns, c("plain_init_cpu_ns") / (c("plain_init_cpu_ns") + floor_ns),
        c("plain_gw_cpu_ns") / (c("plain_gw_cpu_ns") + floor_ns));
  }
  if (const auto* r = runOf(runs, "linkSetups")) {
    auto c = [&](const char* name) { return static_cast<double>(r->counters.at(name)); };
    std::printf(
        "link set-up (%s), links opened one after another, medians of alternate rounds:\n"
        "  TLS link (connect, TLS 1.3 handshake, HELLO both ways, close): %.0f us wall; CPU initiator %.0f us, "
        "gateway %.0f us; %.0f octets on the wire\n"
        "  plaintext link (connect, the gateway's first frame, close): %.0f us wall; CPU initiator %.0f us, "
        "gateway %.0f us\n",
        r->run_name.args.c_str(), c("tls_wall_us"), c("tls_init_cpu_us"), c("tls_gw_cpu_us"), c("tls_setup_B"),
        c("plain_wall_us"), c("plain_init_cpu_us"), c("plain_gw_cpu_us"));
  }
}
const bool kSummary = perf::setSummary(printSummary);

}  // namespace
