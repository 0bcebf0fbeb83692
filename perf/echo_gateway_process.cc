// The echo gateway process of perf/link_bench and the parent's handle on it.
#include "echo_gateway_process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "lbmail/core/log.h"
#include "lbmail/core/tcp_listener.h"
#include "lbmail/proto/link_acceptor.h"
#include "link_bench_security.h"
#include "plain_link.h"

namespace lbmail::perf {
namespace {

using proto::Frame;
using proto::LinkConnection;

constexpr int kAnswerBoundMs = 10'000;
// Set in a process that EchoGatewayProcess started: "<kind> <report fd> <control fd>".
constexpr const char* kChildEnv = "LBMAIL_LINK_BENCH_ECHO_GATEWAY";

// The echo: a RESULT for each SEND at once, and the credit back every kEchoGrantBatch answers.
template <typename Link>
void answer(Link& link, const Frame& frame, uint32_t& ungranted) {
  const auto* send = std::get_if<proto::SendFrame>(&frame);
  if (!send) return;
  proto::ResultFrame r;
  r.request_id = send->request_id;
  r.outcome = proto::Outcome::kDelivered;
  r.smtp_code = 250;
  r.enhanced_code = "2.0.0";
  r.mx_host = "mx.example.org";
  r.timings = {10, 0, 0, 0, 10};
  link.send(r);
  if (++ungranted >= kEchoGrantBatch) {
    link.grantCredit(ungranted);
    ungranted = 0;
  }
}

SocketAddress anyLoopbackPort() { return *SocketAddress::parse("127.0.0.1:0"); }

class TlsEcho final : public proto::LinkAcceptor::Handler {
 public:
  explicit TlsEcho(uv_loop_t* loop) : acceptor_(loop, config(), benchSecurity(proto::Role::kGateway), *this) {}
  uint16_t start() { return acceptor_.start() == 0 ? acceptor_.boundAddress().port() : 0; }

  void onLinkUp(LinkConnection& link) override {
    ungranted_ = 0;
    link.grantCredit(kEchoCredit);
  }
  void onLinkFrame(LinkConnection& link, const Frame& frame) override { answer(link, frame, ungranted_); }
  void onLinkClosed(LinkConnection&, std::string_view) override {}

 private:
  static proto::LinkAcceptorConfig config() {
    proto::LinkAcceptorConfig c;
    c.listen = anyLoopbackPort();
    c.link.node_name = kBenchGatewayName;
    return c;
  }

  proto::LinkAcceptor acceptor_;
  uint32_t ungranted_ = 0;
};

class PlainEcho final : public PlainLink::Handler {
 public:
  explicit PlainEcho(uv_loop_t* loop) : loop_(loop), listener_(loop, "plain_link") {}
  uint16_t start() {
    int rc = listener_.listen(anyLoopbackPort(), [this](uv_stream_t* server) {
      links_.push_back(std::make_unique<PlainLink>(loop_, proto::Role::kGateway, *this));
      links_.back()->accept(server);
    });
    return rc == 0 ? listener_.boundAddress().port() : 0;
  }

  void onPlainUp(PlainLink& link) override {
    ungranted_ = 0;
    link.grantCredit(kEchoCredit);
  }
  void onPlainFrame(PlainLink& link, const Frame& frame) override { answer(link, frame, ungranted_); }
  void onPlainClosed(PlainLink& link) override {
    links_.remove_if([&](const auto& l) { return l.get() == &link; });
  }

 private:
  uv_loop_t* loop_;
  TcpListener listener_;
  std::list<std::unique_ptr<PlainLink>> links_;
  uint32_t ungranted_ = 0;
};

// One byte from the parent: write back this process's CPU time. End of file: the parent is gone.
struct Control {
  int control_fd;
  int report_fd;
  uv_poll_t poll;
};

void onControl(uv_poll_t* poll, int, int) {
  auto* c = static_cast<Control*>(poll->data);
  char byte;
  if (read(c->control_fd, &byte, 1) != 1) _exit(0);
  double cpu = processCpuSeconds();
  if (write(c->report_fd, &cpu, sizeof cpu) != sizeof cpu) _exit(1);
}

template <typename Echo>
[[noreturn]] void serve(int report_fd, int control_fd) {
  logger().setLevel(LogLevel::kError);
  uv_loop_t loop;
  uv_loop_init(&loop);
  Echo echo(&loop);
  uint16_t port = echo.start();
  if (write(report_fd, &port, sizeof port) != sizeof port || port == 0) _exit(1);
  Control control{control_fd, report_fd, {}};
  uv_poll_init(&loop, &control.poll, control_fd);
  control.poll.data = &control;
  uv_poll_start(&control.poll, UV_READABLE, onControl);
  uv_run(&loop, UV_RUN_DEFAULT);  // until the parent kills this process
  _exit(0);
}

// In a process EchoGatewayProcess started (the benchmark binary again), before main: serves, and
// never returns.
const bool kIsEchoGateway = [] {
  const char* spec = std::getenv(kChildEnv);
  if (!spec) return false;
  char kind = 0;
  int report_fd = -1, control_fd = -1;
  if (std::sscanf(spec, "%c %d %d", &kind, &report_fd, &control_fd) != 3) _exit(1);
  if (kind == 't') serve<TlsEcho>(report_fd, control_fd);
  serve<PlainEcho>(report_fd, control_fd);
}();

// Reads exactly n bytes, waiting at most kAnswerBoundMs in all.
bool readBounded(int fd, void* out, size_t n) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, kAnswerBoundMs) != 1) return false;
    ssize_t got = read(fd, p, n);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

EchoGatewayProcess::EchoGatewayProcess(LinkKind kind) {
  // A peer that went away must show as a failed run, not kill the benchmark.
  signal(SIGPIPE, SIG_IGN);
  int report[2], control[2];
  if (pipe(report) != 0) return;
  if (pipe(control) != 0) {
    close(report[0]);
    close(report[1]);
    return;
  }
  // The benchmark binary again, not a fork: a fork would share the parent's heap copy-on-write,
  // and the faults as either side first writes to a shared page would be counted as link cost.
  // posix_spawn does not write-protect the parent's memory either (it uses vfork semantics).
  std::string spec = std::string(kChildEnv) + "=" + (kind == LinkKind::kTls ? "t" : "p") + " " +
                     std::to_string(report[1]) + " " + std::to_string(control[0]);
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  env.push_back(spec.data());
  env.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, report[0]);
  posix_spawn_file_actions_addclose(&actions, control[1]);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, nullptr};
  if (posix_spawn(&pid_, exe, &actions, nullptr, argv, env.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  close(report[1]);
  close(control[0]);
  report_fd_ = report[0];
  control_fd_ = control[1];
  uint16_t port = 0;
  if (pid_ > 0 && readBounded(report_fd_, &port, sizeof port)) port_ = port;
}

EchoGatewayProcess::~EchoGatewayProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (report_fd_ >= 0) close(report_fd_);
  if (control_fd_ >= 0) close(control_fd_);
}

std::optional<double> EchoGatewayProcess::cpuSeconds() {
  char byte = 0;
  double cpu = 0;
  if (!started() || write(control_fd_, &byte, 1) != 1) return std::nullopt;
  if (!readBounded(report_fd_, &cpu, sizeof cpu)) return std::nullopt;
  return cpu;
}

}  // namespace lbmail::perf
