// Two DKIM verifiers independent of lbmail (dkimpy and Perl's Mail::DKIM, through
// tests/support/dkim_verify.py and .pl) and a real DNS server (dnsmasq) publishing the keys.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnsmasq_server.h"

namespace lbmail::dkim {
class DkimKey;
}

namespace lbmail::test {

// dnsmasq with the TXT record of every key; verify() runs both verifiers on files.
class DkimVerifiers {
 public:
  explicit DkimVerifiers(std::vector<const dkim::DkimKey*> keys);
  // "" once dnsmasq answers, or why not.
  std::string start();

  struct Result {
    bool dkimpy_pass = false, mail_dkim_pass = false;  // every signature of every file passed
    std::string output;                                // both verifiers' lines, for messages
  };
  // Mail::DKIM before 1.20230630 (Debian 12's) has no ed25519-sha256: it reports such a signature
  // "unsupported", neither pass nor fail, and needs another signature on the file to pass.
  Result verify(const std::vector<std::string>& files);

  // The dnsmasq option that publishes key: --txt-record=S._domainkey.D,<string>,<string>...
  static std::string txtRecordOption(const dkim::DkimKey& key);

 private:
  std::unique_ptr<DnsmasqServer> dns_;
};

}  // namespace lbmail::test
