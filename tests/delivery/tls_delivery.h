// The harness of the end-to-end TLS policy tests: a DeliveryEngine whose DNS is the DANE
// fixture (MX, A, TXT, TLSA with AD or not), sending to real receivers (lbmail sink with
// STARTTLS, a private Postfix, scripted servers) on a loop thread of its own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dane_dns_server.h"
#include "events.h"
#include "lbmail/delivery/delivery_engine.h"
#include "loop_thread.h"
#include "test_pki.h"

namespace lbmail::delivery::test {

// One small message to rcpt.
OutgoingMessage tlsTestMessage(const std::string& rcpt);

// An engine with policy as the default TLS policy, the receiver's port for hosts found
// through DNS (so also in TLSA names), private destinations allowed, short timeouts.
DeliveryConfig tlsTestConfig(TlsPolicy policy, uint16_t smtp_port, const std::string& ca_file = "");
// A resolver asking only dns.
dns::ResolverConfig fixtureResolver(const lbmail::test::DaneDnsServer& dns, uint16_t smtp_port);

class TlsEngineRun {
 public:
  TlsEngineRun(DeliveryConfig config, dns::ResolverConfig resolver_config);
  ~TlsEngineRun() { close(); }
  TlsEngineRun(const TlsEngineRun&) = delete;
  TlsEngineRun& operator=(const TlsEngineRun&) = delete;

  // Submits one message per recipient (all of domain) and waits for every result.
  std::vector<DeliveryResult> deliver(const std::string& domain, const std::vector<std::string>& rcpts);
  DeliveryResult deliverOne(const std::string& domain, const std::string& rcpt);
  DeliveryEngineStats stats();
  void close();

 private:
  lbmail::test::LoopThread loop_;
  lbmail::test::Events events_;
  std::unique_ptr<dns::MxResolver> resolver_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::vector<DeliveryResult> results_;
};

// Both files' certificates in one PEM file (a CA bundle), written under pki's directory.
std::string caBundle(const lbmail::test::TestPki& pki, const std::string& name, const std::vector<std::string>& files);

// [sink] settings for STARTTLS with certificate.
std::string sinkTls(const lbmail::test::TestCertificate& certificate);

}  // namespace lbmail::delivery::test
