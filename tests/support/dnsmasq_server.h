// dnsmasq as a test's DNS server, on a free loopback port with the test's records, stopped by
// pid.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"
#include "lbmail/core/socket_address.h"

namespace lbmail::test {

class DnsmasqServer {
 public:
  // records: dnsmasq options such as "--mx-host=example.test,mx1.example.test,10". Names
  // under .test that have no record are answered NXDOMAIN or no-data (--local=/test/), every
  // record has TTL 300 (--local-ttl), other names get REFUSED.
  explicit DnsmasqServer(std::vector<std::string> records) : records_(std::move(records)) {}

  // "" once it answers a query; else what went wrong on the last of a few free ports tried.
  std::string start();
  SocketAddress address() const;
  // Queries of qtype ("MX", "A", "AAAA") for name it has logged so far. A marker query is
  // answered and logged first, so every earlier query is in the log.
  size_t queriesLogged(std::string_view qtype, std::string_view name);

 private:
  std::string startOn(uint16_t port);

  std::vector<std::string> records_;
  std::unique_ptr<lbmail::test::ChildProcess> child_;
  uint16_t port_ = 0;
  int markers_ = 0;
};

// Records for domains d0.test .. d<n-1>.test, each with one MX (mx.dI.test) at 127.0.0.1.
inline std::vector<std::string> loopbackMxRecords(int n) {
  std::vector<std::string> r;
  for (int i = 0; i < n; ++i) {
    std::string d = "d" + std::to_string(i) + ".test";
    r.push_back("--mx-host=" + d + ",mx." + d + ",10");
    r.push_back("--host-record=mx." + d + ",127.0.0.1");
  }
  return r;
}

// A loopback UDP port nothing is bound to now (bound to port 0, then closed).
uint16_t freeUdpPort();

// One DNS query for (name, A) to 127.0.0.1:port; true when any reply came within 500 ms.
bool answersQueries(uint16_t port, std::string_view name);

}  // namespace lbmail::test
