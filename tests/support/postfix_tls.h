// A private Postfix for tests and benchmarks: a real smtpd with STARTTLS on a free loopback
// port, its own configuration, queue and data directories under a temporary directory, every
// accepted message delivered as a file (virtual(8) into one Maildir per domain), stopped by its
// master's pid. Postfix's master runs as root: so must the test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "test_pki.h"

namespace lbmail::test {

class PostfixTlsServer {
 public:
  struct Options {
    std::string hostname = "mx.postfix.test";            // myhostname: greeting, Received header
    std::vector<std::string> domains = {"example.test"};  // mail to any address here is kept
    // smtpd's certificate and key (TestPki's, say); without one smtpd offers no STARTTLS.
    TestCertificate certificate;
    std::string tls_security_level = "may";  // smtpd_tls_security_level (RFC 3207 offered)
    std::vector<std::string> main_cf;        // more main.cf lines, e.g. "smtpd_tls_protocols = >=TLSv1.3"
    std::vector<std::string> master_cf;      // more master.cf services, e.g. an smtp client
  };

  explicit PostfixTlsServer(Options options);
  ~PostfixTlsServer();  // stops it and removes its directory
  PostfixTlsServer(const PostfixTlsServer&) = delete;
  PostfixTlsServer& operator=(const PostfixTlsServer&) = delete;

  // `postfix -c DIR start` on a free port (a few tried); "" once it accepts connections, else
  // why not, with the end of Postfix's log.
  std::string start();
  // SIGTERM to the master (which stops its children), then waits for it to go (SIGKILL after
  // the bound). Safe to call twice.
  void stop();

  const SocketAddress& address() const { return address_; }
  const std::string& dir() const { return dir_; }
  // Postfix's log (maillog_file): "Anonymous TLS connection established ...", deliveries.
  std::string log() const;
  // The files of the messages delivered for domain so far, by name.
  std::vector<std::string> messages(const std::string& domain) const;
  // Waits (on inotify, bounded) until at least n messages for domain are delivered; returns
  // them, fewer when the bound passed first.
  std::vector<std::string> waitForMessages(const std::string& domain, size_t n,
                                           std::chrono::seconds bound = std::chrono::seconds(20));
  pid_t masterPid() const { return master_pid_; }

 private:
  std::string writeConfig(uint16_t port);
  std::string startOn(uint16_t port);
  std::string maildir(const std::string& domain) const { return dir_ + "/mail/" + domain; }

  Options options_;
  std::string dir_;
  SocketAddress address_;
  pid_t master_pid_ = -1;
};

}  // namespace lbmail::test
