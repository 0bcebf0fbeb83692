// `lbmail gateway` as a test's process: its config written from the test's pieces (a fresh
// key file of mode 0600, the receiver port, the DNS server, the media cache), stopped by pid.
#pragma once

#include <memory>
#include <string>

#include "child_process.h"
#include "lbmail/core/socket_address.h"

namespace lbmail::test {

struct GatewayOptions {
  std::string listen = "127.0.0.1:0";  // the link listener (a restarted gateway takes its old one)
  uint16_t smtp_port = 25;             // receivers' port for hosts found through DNS
  std::string dns_server;              // "127.0.0.1:PORT"
  std::string media_cache;             // may be empty
  uint32_t capacity = 1000;
  std::string name;  // its [node] name, the link identity initiators name; empty: gateway-test-N
  std::string drain_timeout = "10s";
  // Tests' receivers listen on loopback, which a gateway does not dial by default.
  bool allow_private_destinations = true;
  std::string smtp_extra;  // more [smtp] keys, one per line
  std::string extra;       // appended to the config as it is (more tables)
  // Certificate mode for the link (all three set): these files instead of the key file.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
};

class GatewayProcess {
 public:
  explicit GatewayProcess(const GatewayOptions& options);
  // Waits for the admin and link listeners; false (with the log in err()) when it did not start.
  bool start();
  // SIGTERM (graceful drain), then the exit code; the process's CPU time in usage when given.
  int stop(struct rusage* usage = nullptr);
  const SocketAddress& link() const { return link_; }
  const SocketAddress& admin() const { return admin_; }
  const std::string& keyFile() const { return key_file_; }
  // Its [node] name: its identity on the link, which initiators must name.
  const std::string& name() const { return name_; }
  const std::string& err() const { return child_->err(); }
  ChildProcess& child() { return *child_; }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string key_file_;
  std::string name_;
  SocketAddress link_;
  SocketAddress admin_;
};

}  // namespace lbmail::test
