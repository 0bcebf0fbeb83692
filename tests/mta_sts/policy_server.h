// tests/mta_sts/policy_server.py as a test's HTTPS server: policies for test hosts over a PKI
// it makes with the openssl command, started as a process and stopped by pid.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"

namespace lbmail::mta_sts::test {

// What GET answers for one host, whatever the path.
struct PolicyRoute {
  int status = 200;
  std::string type = "text/plain";
  std::string body;
  std::string location;  // a Location header when not empty
  bool length = true;    // false: no Content-Length, the body ends at the close
};

// A 200 (or status) answer of type with body.
inline PolicyRoute servedRoute(std::string body, int status = 200, std::string type = "text/plain") {
  PolicyRoute r;
  r.status = status;
  r.type = std::move(type);
  r.body = std::move(body);
  return r;
}

class PolicyServer {
 public:
  // expired: hosts whose certificate (chosen by SNI) expired yesterday. bind: "127.0.0.1" or "::1".
  explicit PolicyServer(std::map<std::string, PolicyRoute> hosts, std::vector<std::string> expired = {},
                        std::string bind = "127.0.0.1");
  ~PolicyServer();

  // True once it listens; its PKI is then in place.
  bool start();
  uint16_t port() const { return port_; }
  // The CA that signed every certificate the server shows.
  std::string caFile() const { return dir_ + "/ca.pem"; }
  // Stops it (SIGTERM, by pid) and returns its event lines.
  std::string stop();
  // After stop(): the GETs it received for host.
  size_t requestsFor(const std::string& host) const;

 private:
  std::map<std::string, PolicyRoute> hosts_;
  std::vector<std::string> expired_;
  std::string bind_;
  std::string dir_;
  std::unique_ptr<lbmail::test::ChildProcess> child_;
  uint16_t port_ = 0;
  std::string events_;
};

// A policy body with LF line ends.
std::string policyText(const std::string& mode, const std::vector<std::string>& mx, int max_age);

}  // namespace lbmail::mta_sts::test
