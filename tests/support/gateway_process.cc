// The gateway process for end-to-end tests and benchmarks.
#include "gateway_process.h"

#include <signal.h>
#include <sys/stat.h>

#include <fstream>

#include "log_fields.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::test {

GatewayProcess::GatewayProcess(const GatewayOptions& o) {
  static int count = 0;
  std::string tag = std::to_string(++count);
  key_file_ = tempPath("gateway-" + tag + ".key");
  std::ofstream(key_file_) << "a test key, longer than sixteen bytes\n";
  ::chmod(key_file_.c_str(), 0600);
  std::string credentials = "key_file = \"" + key_file_ + "\"\n";
  if (!o.tls_cert_file.empty()) {
    credentials = "tls_ca_file = \"" + o.tls_ca_file + "\"\ntls_cert_file = \"" + o.tls_cert_file +
                  "\"\ntls_key_file = \"" + o.tls_key_file + "\"\n";
  }
  std::string config = tempPath("gateway-" + tag + ".toml");
  std::ofstream out(config);
  name_ = o.name.empty() ? "gateway-test-" + tag : o.name;
  out << "[node]\nname = \"" << name_ << "\"\n"
      << "[admin]\nlisten = \"127.0.0.1:0\"\n"
      << "[gateway]\nlisten = \"" << o.listen << "\"\n" << credentials << "capacity = " << o.capacity
      << "\nmedia_cache = \"" << o.media_cache << "\"\ndrain_timeout = \"" << o.drain_timeout << "\"\n"
      << "[smtp]\nport = " << o.smtp_port << "\nhelo_name = \"gateway.test\"\nbackoff = \"1s\"\n"
      << "allow_private_destinations = " << (o.allow_private_destinations ? "true" : "false") << "\n"
      << o.smtp_extra;
  if (!o.dns_server.empty()) out << "[dns]\nservers = [\"" << o.dns_server << "\"]\n";
  out << o.extra;
  out.close();
  child_ = std::make_unique<ChildProcess>(std::vector<std::string>{testEnv("LBMAIL_BINARY"), "gateway", "-c", config});
}

bool GatewayProcess::start() {
  auto admin = child_->waitForStderrLine("event=admin.listening");
  auto link = admin ? child_->waitForStderrLine("event=gateway.listening") : std::nullopt;
  if (!admin || !link) return false;
  admin_ = *addrField(*admin);
  link_ = *addrField(*link);
  return true;
}

int GatewayProcess::stop(struct rusage* usage) {
  child_->signal(SIGTERM);
  return exitCode(child_->wait(std::chrono::seconds(30), usage));
}

}  // namespace lbmail::test
