// The end-to-end TLS tests' engine harness.
#include "tls_delivery.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace lbmail::delivery::test {

using namespace std::chrono_literals;

OutgoingMessage tlsTestMessage(const std::string& rcpt) {
  auto body = std::make_shared<std::string>("Message-ID: <" + rcpt + ">\r\nSubject: tls test\r\n\r\nhello\r\n");
  OutgoingMessage m;
  m.mail_from = "sender@lbmail.test";
  m.recipients = {rcpt};
  m.body = {*body};
  m.owner = body;
  return m;
}

DeliveryConfig tlsTestConfig(TlsPolicy policy, uint16_t smtp_port, const std::string& ca_file) {
  DeliveryConfig c;
  c.port = smtp_port;
  c.allow_private_destinations = true;
  c.tls.policy = policy;
  c.tls.ca_file = ca_file;
  c.tls.mta_sts_fetch_timeout = 10s;
  c.client.helo_name = "engine.test";
  c.client.connect_timeout = c.client.greeting_timeout = c.client.mail_timeout = c.client.rcpt_timeout =
      c.client.data_init_timeout = c.client.data_block_timeout = c.client.data_end_timeout =
          c.client.starttls_timeout = 10s;
  return c;
}

dns::ResolverConfig fixtureResolver(const lbmail::test::DaneDnsServer& dns, uint16_t smtp_port) {
  dns::ResolverConfig c;
  c.servers = {dns.address()};
  c.smtp_port = smtp_port;
  c.query_timeout = 2s;
  return c;
}

TlsEngineRun::TlsEngineRun(DeliveryConfig config, dns::ResolverConfig resolver_config) {
  loop_.call([&] {
    resolver_ = std::make_unique<dns::MxResolver>(loop_.loop(), resolver_config);
    EXPECT_EQ(resolver_->start(), "");
    engine_ = std::make_unique<DeliveryEngine>(loop_.loop(), config, *resolver_);
  });
}

std::vector<DeliveryResult> TlsEngineRun::deliver(const std::string& domain, const std::vector<std::string>& rcpts) {
  size_t before = 0;
  events_.locked([&] { before = results_.size(); });
  loop_.call([&] {
    for (const std::string& rcpt : rcpts) {
      engine_->submit(domain, tlsTestMessage(rcpt), [this](DeliveryResult&& r) {
        events_.update([&] { results_.push_back(std::move(r)); });
      });
    }
  });
  EXPECT_TRUE(events_.waitFor([&] { return results_.size() >= before + rcpts.size(); }, 60s));
  std::vector<DeliveryResult> out;
  events_.locked([&] { out.assign(results_.begin() + static_cast<std::ptrdiff_t>(before), results_.end()); });
  return out;
}

DeliveryResult TlsEngineRun::deliverOne(const std::string& domain, const std::string& rcpt) {
  std::vector<DeliveryResult> r = deliver(domain, {rcpt});
  return r.empty() ? DeliveryResult{} : r[0];
}

DeliveryEngineStats TlsEngineRun::stats() {
  DeliveryEngineStats s;
  loop_.call([&] { s = engine_->stats(); });
  return s;
}

void TlsEngineRun::close() {
  if (!engine_) return;
  bool closed = false;
  loop_.call([&] {
    engine_->close([&] {
      resolver_->close([&] { events_.update([&] { closed = true; }); });
    });
  });
  EXPECT_TRUE(events_.waitFor([&] { return closed; }));
  EXPECT_EQ(loop_.stop(), 0);
  engine_.reset();
  resolver_.reset();
}

std::string caBundle(const lbmail::test::TestPki& pki, const std::string& name, const std::vector<std::string>& files) {
  std::string path = pki.dir() + "/" + name;
  std::ofstream out(path);
  for (const std::string& f : files) out << std::ifstream(f).rdbuf();
  return path;
}

std::string sinkTls(const lbmail::test::TestCertificate& certificate) {
  return "tls_certificate = \"" + certificate.cert + "\"\ntls_key = \"" + certificate.key + "\"\n";
}

}  // namespace lbmail::delivery::test
