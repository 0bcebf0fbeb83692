// Real SMTP receivers for tests and benchmarks, started as processes and stopped by pid:
// `lbmail sink` with a message log, and Postfix's smtp-sink.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "lbmail/core/socket_address.h"

namespace lbmail::test {

// A loopback port free now (the kernel picks it); the receiver binds it a moment later.
uint16_t freePort(const std::string& host = "127.0.0.1");

// For receivers that say nothing when they are ready (smtp-sink): true once address accepts a
// TCP connection, false after 10 s.
bool waitUntilAccepting(const SocketAddress& address);

// `lbmail sink` on free ports with the given [sink] settings and rules appended.
class SinkProcess {
 public:
  explicit SinkProcess(const std::string& extra, const std::string& listen = "127.0.0.1:0");

  // Waits for both listeners; false (with the log in err()) when the sink did not start.
  bool start();
  // SIGTERM, then the exit status (its CPU time in usage when given); the message log is
  // complete afterwards.
  int stop(struct rusage* usage = nullptr);
  // SIGKILL: the receiver vanishes mid-conversation, as a crashed server does.
  void kill();

  std::vector<std::string> messageLog() const;
  std::string metrics() const;
  const SocketAddress& smtp() const { return smtp_; }
  const std::string& err() const { return child_->err(); }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string log_path_;
  SocketAddress admin_;
  SocketAddress smtp_;
};

// Postfix's smtp-sink on a free loopback port (it advertises PIPELINING, and CHUNKING).
class PostfixSmtpSink {
 public:
  explicit PostfixSmtpSink(const std::vector<std::string>& options = {});
  // smtp-sink says nothing when it is ready: waits until it accepts a connection (10 s bound).
  bool start();
  // SIGTERM; returns the wait status, with its CPU time in usage when given.
  int stop(struct rusage* usage = nullptr);
  const SocketAddress& address() const { return address_; }

 private:
  std::unique_ptr<ChildProcess> child_;
  SocketAddress address_;
};

}  // namespace lbmail::test
