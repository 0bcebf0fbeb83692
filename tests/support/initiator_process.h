// `lbmail initiator` as a test's (or benchmark's) process: a campaign config written from the
// test's pieces (database, gateways, more [campaign] keys), started and stopped by pid.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"
#include "lbmail/core/socket_address.h"

namespace lbmail::test {

struct InitiatorGateway {
  std::string name;
  SocketAddress link;
  std::string key_file;
  // Certificate mode (all three set): these files instead of the key file. Defaulted, so that
  // brace lists naming only the first three stay complete.
  std::string tls_ca_file = {};
  std::string tls_cert_file = {};
  std::string tls_key_file = {};
};

struct InitiatorOptions {
  std::string database;
  std::string campaign = "test";
  std::vector<InitiatorGateway> gateways;
  std::string campaign_extra;    // more [campaign] keys, one per line
  std::string extra;             // more tables, appended as they are (materials, rules, selection)
  bool default_material = true;  // one material "standard" using {{first_name}} and email
};

class InitiatorProcess {
 public:
  explicit InitiatorProcess(const InitiatorOptions& options);
  // Waits for the admin endpoint; false (with the log in err()) when it did not start.
  bool start();
  // Waits for the process to exit by itself (a finished campaign); its exit code, or -1.
  int waitForExit(std::chrono::seconds bound);
  // SIGTERM, then the exit code.
  int stop();
  // SIGKILL: the crash the campaign must survive.
  void kill();
  // The /status body, or nullopt when it cannot be fetched.
  std::optional<std::string> status() const;
  // A number field of /status's "campaign" object (delivered, sent, ...); -1 when absent.
  int64_t campaignCount(const std::string& key) const;
  // A number field of one gateway's object in /status's "gateways" (in_flight, sent, ...); -1
  // when absent.
  int64_t gatewayCount(const std::string& gateway, const std::string& key) const;
  std::optional<std::string> waitForStderrLine(const std::string& needle,
                                               std::chrono::seconds bound = std::chrono::seconds(60)) {
    return child_->waitForStderrLine(needle, bound);
  }
  const SocketAddress& admin() const { return admin_; }
  pid_t pid() const { return child_->pid(); }
  const std::string& err() const { return child_->err(); }
  const std::string& config() const { return config_; }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string config_;
  SocketAddress admin_;
};

}  // namespace lbmail::test
