// The initiator process for end-to-end tests and benchmarks.
#include "initiator_process.h"

#include <signal.h>

#include <fstream>

#include "log_fields.h"
#include "tcp_client.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::test {

InitiatorProcess::InitiatorProcess(const InitiatorOptions& o) {
  static int count = 0;
  config_ = tempPath("initiator-" + std::to_string(++count) + ".toml");
  std::ofstream out(config_);
  out << "[node]\nname = \"initiator-test\"\n[admin]\nlisten = \"127.0.0.1:0\"\n"
      << "[campaign]\nname = \"" << o.campaign << "\"\ndatabase = \"" << o.database
      << "\"\nsender = \"bounces@shop.example\"\n"
      << (o.default_material ? "default_material = \"standard\"\n" : "") << o.campaign_extra
      << "[campaign.merge_fields]\nfirst_name = \"first_name\"\n";
  if (o.default_material) {
    out << "[[campaign.material]]\nname = \"standard\"\nfrom = \"Shop <news@shop.example>\"\n"
        << "subject = \"{{first_name|Hello}}, your offer\"\ntext = \"Dear {{first_name|customer}} ({{email}})\\n\"\n";
  }
  out << o.extra;
  for (const InitiatorGateway& g : o.gateways) {
    out << "[[gateway]]\nname = \"" << g.name << "\"\naddress = \"" << g.link.toString() << "\"\n";
    if (g.tls_cert_file.empty()) {
      out << "key_file = \"" << g.key_file << "\"\n";
    } else {
      out << "tls_ca_file = \"" << g.tls_ca_file << "\"\ntls_cert_file = \"" << g.tls_cert_file
          << "\"\ntls_key_file = \"" << g.tls_key_file << "\"\n";
    }
  }
  out.close();
  child_ =
      std::make_unique<ChildProcess>(std::vector<std::string>{testEnv("LBMAIL_BINARY"), "initiator", "-c", config_});
}

bool InitiatorProcess::start() {
  auto admin = child_->waitForStderrLine("event=admin.listening");
  if (!admin) return false;
  admin_ = *addrField(*admin);
  return true;
}

int InitiatorProcess::waitForExit(std::chrono::seconds bound) {
  int status = child_->wait(bound);
  return exitCode(status);
}

int InitiatorProcess::stop() {
  child_->signal(SIGTERM);
  return exitCode(child_->wait(std::chrono::seconds(30)));
}

void InitiatorProcess::kill() {
  child_->signal(SIGKILL);
  child_->wait(std::chrono::seconds(10));
}

std::optional<std::string> InitiatorProcess::status() const {
  auto r = httpGet(admin_, "/status");
  if (!r || r->status != 200) return std::nullopt;
  return r->body;
}

namespace {

// The number after "key": at the first key after the object that starts with opening.
int64_t numberAfter(const std::optional<std::string>& body, const std::string& opening, const std::string& key) {
  if (!body) return -1;
  size_t object = body->find(opening);
  if (object == std::string::npos) return -1;
  size_t at = body->find("\"" + key + "\":", object);
  if (at == std::string::npos) return -1;
  return std::stoll(body->substr(at + key.size() + 3));
}

}  // namespace

int64_t InitiatorProcess::campaignCount(const std::string& key) const {
  return numberAfter(status(), "\"campaign\":{", key);
}

int64_t InitiatorProcess::gatewayCount(const std::string& gateway, const std::string& key) const {
  return numberAfter(status(), "\"name\":\"" + gateway + "\"", key);
}

}  // namespace lbmail::test
