// Link throughput between two processes over loopback: SEND→RESULT round trips per second.
// A forked gateway stub answers every SEND at once (no delivery); the initiator keeps the
// granted credit in use. Target on the 2-core development machine: 300,000 per second.
// Bounded: a fixed number of requests, and a 60 s deadline after which the run is an error.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "lbmail/core/log.h"
#include "lbmail/proto/gateway_link.h"
#include "lbmail/proto/link_acceptor.h"

namespace {

using namespace lbmail;
using namespace lbmail::proto;

constexpr uint32_t kGatewayCredit = 4096;
constexpr uint32_t kGrantBatch = 256;
const LinkSecurity& benchSecurity(Role role) {
  static auto gateway = LinkSecurity::fromKeyBytes(Role::kGateway, "lbmail link benchmark key, 32 b.", "bench-gw");
  static auto initiator = LinkSecurity::fromKeyBytes(Role::kInitiator, "lbmail link benchmark key, 32 b.", "bench-gw");
  return role == Role::kGateway ? *gateway : *initiator;
}

// The gateway side: answers each SEND with a RESULT and hands credit back in batches.
class EchoGateway final : public LinkAcceptor::Handler {
 public:
  void onLinkUp(LinkConnection& link) override { link.grantCredit(kGatewayCredit); }
  void onLinkFrame(LinkConnection& link, const Frame& frame) override {
    const auto* send = std::get_if<SendFrame>(&frame);
    if (!send) return;
    ResultFrame r;
    r.request_id = send->request_id;
    r.outcome = Outcome::kDelivered;
    r.smtp_code = 250;
    r.enhanced_code = "2.0.0";
    r.mx_host = "mx.example.org";
    r.timings = {10, 0, 0, 0, 10};
    link.send(r);
    if (++ungranted_ >= kGrantBatch) {
      link.grantCredit(ungranted_);
      ungranted_ = 0;
    }
  }
  void onLinkClosed(LinkConnection&, std::string_view) override {}

 private:
  uint32_t ungranted_ = 0;
};

[[noreturn]] void runGatewayProcess(int port_pipe) {
  logger().setLevel(LogLevel::kError);
  uv_loop_t loop;
  uv_loop_init(&loop);
  EchoGateway echo;
  LinkAcceptorConfig config;
  config.listen = *SocketAddress::parse("127.0.0.1:0");
  config.link.node_name = "bench-gw";
  LinkAcceptor acceptor(&loop, config, benchSecurity(Role::kGateway), echo);
  uint16_t port = acceptor.start() == 0 ? acceptor.boundAddress().port() : 0;
  if (write(port_pipe, &port, sizeof port) != sizeof port || port == 0) _exit(1);
  uv_run(&loop, UV_RUN_DEFAULT);  // until the parent kills this process
  _exit(0);
}

// The initiator side: sends `total` requests as fast as credit allows.
class Pump final : public GatewayLink::Handler {
 public:
  explicit Pump(uint64_t total) : total_(total) {}
  void onGatewayUp(GatewayLink& link) override {
    started_ = std::chrono::steady_clock::now();
    pump(link);
  }
  void onGatewayFrame(GatewayLink& link, const Frame& frame) override {
    if (std::holds_alternative<ResultFrame>(frame) && ++results_ == total_) {
      finished_ = std::chrono::steady_clock::now();
      link.stop([] {});
      return;
    }
    pump(link);
  }
  void pump(GatewayLink& link) {
    while (sent_ < total_ && link.sendRequest(request(sent_))) ++sent_;
  }
  uint64_t results() const { return results_; }
  double seconds() const { return std::chrono::duration<double>(finished_ - started_).count(); }
  size_t sendBytes() const { return encodedSize(request(total_)); }

 private:
  // The typical request of the benchmark: the same shape as proto_bench's.
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
  uint64_t sent_ = 0;
  uint64_t results_ = 0;
  std::chrono::steady_clock::time_point started_, finished_;
};

void linkRoundTrips(benchmark::State& state) {
  logger().setLevel(LogLevel::kError);
  auto total = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) {
      state.SkipWithError("pipe failed");
      break;
    }
    pid_t child = fork();
    if (child == 0) runGatewayProcess(fds[1]);
    uint16_t port = 0;
    bool started = read(fds[0], &port, sizeof port) == sizeof port && port != 0;
    close(fds[0]);
    close(fds[1]);
    if (!started) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      state.SkipWithError("gateway stub did not start");
      break;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    Pump pump(total);
    GatewayLinkConfig config;
    config.gateway = *SocketAddress::parse("127.0.0.1:" + std::to_string(port));
    config.link.node_name = "bench-init";
    GatewayLink link(&loop, config, benchSecurity(Role::kInitiator), pump);
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    deadline.data = &link;
    uv_timer_start(&deadline, [](uv_timer_t* t) { static_cast<GatewayLink*>(t->data)->stop([] {}); }, 60'000, 0);
    link.start();
    uv_run(&loop, UV_RUN_ONCE);
    while (link.isUp() || pump.results() < total) {
      if (uv_run(&loop, UV_RUN_ONCE) == 0) break;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
    link.stop([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);

    if (pump.results() != total) {
      state.SkipWithError("not every request got its RESULT before the deadline");
      break;
    }
    state.SetIterationTime(pump.seconds());
    state.counters["round_trips_per_s"] = static_cast<double>(total) / pump.seconds();
    state.counters["send_frame_bytes"] = static_cast<double>(pump.sendBytes());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(total));
}
BENCHMARK(linkRoundTrips)->Arg(300'000)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
