// dnsmasq for tests, and the loopback ports it runs on.
#include "dnsmasq_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "validate.h"

namespace lbmail::test {
namespace {

using namespace std::chrono_literals;

int boundUdpSocket(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(sin.sin_port);
  return fd;
}

std::vector<uint8_t> queryFor(std::string_view name) {
  std::vector<uint8_t> q = {0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    q.push_back(static_cast<uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});  // root, type A, class IN
  return q;
}

std::string userName() {
  const passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : "root";
}

}  // namespace

uint16_t freeUdpPort() {
  uint16_t port = 0;
  int fd = boundUdpSocket(port);
  if (fd >= 0) ::close(fd);
  return port;
}

bool answersQueries(uint16_t port, std::string_view name) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<uint8_t> q = queryFor(name);
  bool answered = false;
  ssize_t sent = ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  if (sent == static_cast<ssize_t>(q.size())) {
    pollfd p{fd, POLLIN, 0};
    uint8_t reply[512];
    answered = ::poll(&p, 1, 500) == 1 && ::recv(fd, reply, sizeof reply, 0) >= 12;
  }
  ::close(fd);
  return answered;
}

std::string DnsmasqServer::start() {
  // The port can be taken between finding it free and dnsmasq binding it: try a few.
  std::string error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    error = startOn(freeUdpPort());
    if (error.empty()) return "";
  }
  return error;
}

std::string DnsmasqServer::startOn(uint16_t port) {
  std::vector<std::string> argv = {lbmail::test::testEnv("LBMAIL_DNSMASQ"),
                                   "--keep-in-foreground",
                                   "--no-daemon",
                                   "--conf-file=/dev/null",
                                   "--no-resolv",
                                   "--no-hosts",
                                   "--port=" + std::to_string(port),
                                   "--listen-address=127.0.0.1",
                                   "--bind-interfaces",
                                   "--local=/test/",
                                   "--local-ttl=300",
                                   "--log-queries",
                                   "--log-facility=-",
                                   "--user=" + userName(),
                                   "--pid-file="};
  argv.insert(argv.end(), records_.begin(), records_.end());
  child_ = std::make_unique<lbmail::test::ChildProcess>(argv);
  if (!child_->started()) return "cannot run " + argv[0];
  // Logged once its sockets are bound; a port in use ends it before that, with the reason.
  if (!child_->waitForStderrLine("started, version", 10s)) {
    std::string why = child_->err();
    child_.reset();
    return "dnsmasq did not start: " + why;
  }
  for (int i = 0; i < 10; ++i) {
    if (answersQueries(port, "ready.test")) {
      port_ = port;
      return "";
    }
  }
  child_.reset();
  return "dnsmasq started but does not answer on port " + std::to_string(port);
}

SocketAddress DnsmasqServer::address() const { return *SocketAddress::parse("127.0.0.1:" + std::to_string(port_)); }

size_t DnsmasqServer::queriesLogged(std::string_view qtype, std::string_view name) {
  std::string marker = "marker" + std::to_string(++markers_) + ".test";
  if (!answersQueries(port_, marker) || !child_->waitForStderrLine("query[A] " + marker + " ")) return SIZE_MAX;
  std::string needle = "query[" + std::string(qtype) + "] " + std::string(name) + " from ";
  const std::string& log = child_->err();
  size_t count = 0;
  for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++count;
  return count;
}

}  // namespace lbmail::test
