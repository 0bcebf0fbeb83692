// A scripted UDP DNS server for the failure cases dnsmasq will not produce.
#include "scripted_dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lbmail::dns::test {

ScriptedDnsServer::ScriptedDnsServer(Script script) : script_(std::move(script)) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 &&
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) == 0) {
    port_ = ntohs(sin.sin_port);
  }
  thread_ = std::thread([this] { serve(); });
}

ScriptedDnsServer::~ScriptedDnsServer() {
  stop_ = true;
  thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

SocketAddress ScriptedDnsServer::address() const { return *SocketAddress::parse("127.0.0.1:" + std::to_string(port_)); }

// The poll bound only lets the thread notice the destructor's stop flag.
void ScriptedDnsServer::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    uint8_t buf[1500];
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) continue;
    {
      std::lock_guard lock(mutex_);
      ++received_;
    }
    arrived_.notify_all();
    std::vector<uint8_t> reply = script_(std::span<const uint8_t>(buf, static_cast<size_t>(n)));
    if (!reply.empty()) ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

size_t ScriptedDnsServer::waitForQueries(size_t n, std::chrono::seconds bound) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, bound, [&] { return received_ >= n; });
  return received_;
}

std::vector<uint8_t> ScriptedDnsServer::replyWithRcode(std::span<const uint8_t> query, uint8_t rcode) {
  std::vector<uint8_t> reply(query.begin(), query.end());
  if (reply.size() < 12) return {};
  reply[2] = static_cast<uint8_t>(0x80 | (reply[2] & 0x01));  // QR, RD kept
  reply[3] = static_cast<uint8_t>(0x80 | rcode);              // RA; AD, CD and Z clear
  return reply;
}

std::vector<uint8_t> ScriptedDnsServer::replyWithAnswer(std::span<const uint8_t> query,
                                                        const std::vector<uint8_t>& tail, uint16_t count,
                                                        bool authenticated) {
  std::vector<uint8_t> reply = replyWithRcode(query, 0);
  if (reply.empty()) return {};
  reply[6] = static_cast<uint8_t>(count >> 8);  // ANCOUNT
  reply[7] = static_cast<uint8_t>(count);
  if (authenticated) reply[3] |= 0x20;
  reply.insert(reply.end(), tail.begin(), tail.end());
  return reply;
}

// Labels are never compressed in a query: the name is walked label by label.
uint16_t ScriptedDnsServer::questionType(std::span<const uint8_t> query) {
  size_t at = 12;
  while (at < query.size() && query[at] != 0) at += 1 + query[at];
  if (at + 2 >= query.size()) return 0;
  return static_cast<uint16_t>((query[at + 1] << 8) | query[at + 2]);
}

std::string ScriptedDnsServer::questionName(std::span<const uint8_t> query) {
  std::string name;
  size_t at = 12;
  while (at < query.size() && query[at] != 0 && at + 1 + query[at] <= query.size()) {
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(&query[at + 1]), query[at]);
    at += 1 + query[at];
  }
  return name;
}

}  // namespace lbmail::dns::test
