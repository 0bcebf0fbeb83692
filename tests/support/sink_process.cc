// Receiver processes for tests and benchmarks.
#include "sink_process.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "log_fields.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::test {

uint16_t freePort(const std::string& host) {
  auto any = SocketAddress::parse(host.find(':') == std::string::npos ? host + ":0" : "[" + host + "]:0");
  int fd = ::socket(any->family(), SOCK_STREAM, 0);
  uint16_t port = 0;
  if (::bind(fd, any->sockaddrPtr(), any->length()) == 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port = SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).port();
  }
  ::close(fd);
  return port;
}

SinkProcess::SinkProcess(const std::string& extra, const std::string& listen) {
  static int count = 0;
  std::string tag = std::to_string(++count);
  log_path_ = tempPath("sink-messages-" + tag + ".jsonl");
  std::remove(log_path_.c_str());
  std::string config = tempPath("sink-test-" + tag + ".toml");
  std::ofstream(config) << "[admin]\nlisten = \"127.0.0.1:0\"\n[sink]\nlisten = \"" << listen
                        << "\"\nhostname = \"sink.test\"\nmessage_log = \"" << log_path_ << "\"\n"
                        << extra;
  child_ = std::make_unique<ChildProcess>(std::vector<std::string>{testEnv("LBMAIL_BINARY"), "sink", "-c", config});
}

bool SinkProcess::start() {
  auto admin = child_->waitForStderrLine("event=admin.listening");
  auto smtp = child_->waitForStderrLine("event=sink.listening");
  if (!admin || !smtp) return false;
  admin_ = *addrField(*admin);
  smtp_ = *addrField(*smtp);
  return true;
}

int SinkProcess::stop(struct rusage* usage) {
  child_->signal(SIGTERM);
  return exitCode(child_->wait(std::chrono::seconds(20), usage));
}

void SinkProcess::kill() {
  child_->signal(SIGKILL);
  child_->wait();
}

std::vector<std::string> SinkProcess::messageLog() const {
  std::ifstream in(log_path_);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string SinkProcess::metrics() const {
  auto r = httpGet(admin_, "/metrics");
  return r ? r->body : "";
}

PostfixSmtpSink::PostfixSmtpSink(const std::vector<std::string>& options) {
  address_ = *SocketAddress::parse("127.0.0.1:" + std::to_string(freePort()));
  // -u: the user to run as (smtp-sink refuses to run as root); 256: the listen backlog.
  std::vector<std::string> argv{testEnv("LBMAIL_SMTP_SINK"), "-u", "nobody"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(address_.toString());
  argv.push_back("256");
  child_ = std::make_unique<ChildProcess>(argv);
}

bool waitUntilAccepting(const SocketAddress& address) {
  for (int i = 0; i < 1000; ++i) {
    if (TcpClient(address).connected()) return true;
    usleep(10'000);  // no readiness signal to await: connecting is the only probe
  }
  return false;
}

bool PostfixSmtpSink::start() { return child_->started() && waitUntilAccepting(address_); }

int PostfixSmtpSink::stop(struct rusage* usage) {
  child_->signal(SIGTERM);
  return child_->wait(std::chrono::seconds(20), usage);
}

}  // namespace lbmail::test
