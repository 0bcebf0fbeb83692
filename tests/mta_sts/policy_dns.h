// DNS for MTA-STS tests on tests/dns's ScriptedDnsServer: _mta-sts TXT records and policy
// hosts at 127.0.0.1, each answered with TTL 0 so that a test may change them between lookups.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dns_message_builder.h"
#include "scripted_dns_server.h"

namespace lbmail::mta_sts::test {

class PolicyDns {
 public:
  PolicyDns() : server_([this](std::span<const uint8_t> q) { return answer(q); }) {}

  // _mta-sts.<domain> answers these TXT records (none: NXDOMAIN).
  void setRecords(const std::string& domain, std::vector<std::string> texts) {
    std::lock_guard lock(mutex_);
    if (texts.empty()) {
      txt_.erase("_mta-sts." + domain);
    } else {
      txt_["_mta-sts." + domain] = std::move(texts);
    }
  }
  // mta-sts.<domain> has the address 127.0.0.1 (and no AAAA).
  void addPolicyHost(const std::string& domain) {
    std::lock_guard lock(mutex_);
    hosts_.insert("mta-sts." + domain);
  }
  SocketAddress address() const { return server_.address(); }

 private:
  static constexpr uint16_t kA = 1, kTxt = 16, kAaaa = 28;
  static constexpr uint8_t kNxdomain = 3;

  std::vector<uint8_t> answer(std::span<const uint8_t> query) {
    using dns::test::DnsMessageBuilder;
    using Server = dns::test::ScriptedDnsServer;
    std::string name = Server::questionName(query);
    uint16_t type = Server::questionType(query);
    std::lock_guard lock(mutex_);
    DnsMessageBuilder records;
    uint16_t count = 0;
    if (type == kTxt && txt_.count(name)) {
      for (const std::string& text : txt_[name]) {
        records.pointer(12).fixed(kTxt, 1, 0, dns::test::txtRdata({text}));
        ++count;
      }
    } else if (hosts_.count(name) && (type == kA || type == kAaaa)) {
      if (type == kA) {
        records.pointer(12).fixed(kA, 1, 0, dns::test::aRdata({127, 0, 0, 1}));
        ++count;
      }
    } else {
      return Server::replyWithRcode(query, kNxdomain);
    }
    return Server::replyWithAnswer(query, records.bytes(), count);
  }

  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> txt_;
  std::set<std::string> hosts_;
  dns::test::ScriptedDnsServer server_;  // last: its thread stops before the maps go
};

}  // namespace lbmail::mta_sts::test
