// Starts and stops tests/mta_sts/policy_server.py.
#include "policy_server.h"

#include <signal.h>

#include <filesystem>
#include <fstream>

#include "lbmail/core/json_writer.h"
#include "log_fields.h"
#include "temp_path.h"
#include "validate.h"

namespace lbmail::mta_sts::test {
namespace {

int serverCount = 0;

std::string routesJson(const std::map<std::string, PolicyRoute>& hosts, const std::vector<std::string>& expired) {
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("hosts").beginObject();
  for (const auto& [host, r] : hosts) {
    w.key(host).beginObject().field("status", r.status).field("type", r.type).field("body", r.body);
    if (!r.location.empty()) w.field("location", r.location);
    w.field("length", r.length);
    w.endObject();
  }
  w.endObject().key("expired").beginArray();
  for (const std::string& host : expired) w.value(host);
  w.endArray().endObject();
  return out;
}

}  // namespace

PolicyServer::PolicyServer(std::map<std::string, PolicyRoute> hosts, std::vector<std::string> expired,
                           std::string bind)
    : hosts_(std::move(hosts)), expired_(std::move(expired)), bind_(std::move(bind)) {}

PolicyServer::~PolicyServer() {
  stop();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

bool PolicyServer::start() {
  dir_ = lbmail::test::tempPath("policy-server-" + std::to_string(++serverCount));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  std::string routes = dir_ + "/routes.json";
  std::ofstream(routes) << routesJson(hosts_, expired_);
  std::string script = lbmail::test::testEnv("LBMAIL_SOURCE_ROOT") + "/tests/mta_sts/policy_server.py";
  child_ = std::make_unique<lbmail::test::ChildProcess>(
      std::vector<std::string>{lbmail::test::testEnv("LBMAIL_PYTHON"), script, "--dir", dir_, "--routes", routes,
                               "--bind", bind_});
  auto line = child_->waitForStderrLine("event=policy_server.listening");
  if (!line) return false;
  auto addr = lbmail::test::addrField(*line);
  if (!addr) return false;
  port_ = addr->port();
  return true;
}

std::string PolicyServer::stop() {
  if (!child_) return events_;
  child_->signal(SIGTERM);
  child_->wait();
  events_ = child_->err();
  child_.reset();
  return events_;
}

size_t PolicyServer::requestsFor(const std::string& host) const {
  std::string needle = "event=policy_server.request host=" + host + " ";
  size_t n = 0;
  for (size_t at = events_.find(needle); at != std::string::npos; at = events_.find(needle, at + 1)) ++n;
  return n;
}

std::string policyText(const std::string& mode, const std::vector<std::string>& mx, int max_age) {
  std::string out = "version: STSv1\nmode: " + mode + "\n";
  for (const std::string& m : mx) out += "mx: " + m + "\n";
  return out + "max_age: " + std::to_string(max_age) + "\n";
}

}  // namespace lbmail::mta_sts::test
