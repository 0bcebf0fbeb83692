// Three DKIM verifiers independent of lbmail (dkimpy, Perl's Mail::DKIM and Node.js's mailauth,
// through tests/support/dkim_verify.py, .pl and mailauth/dkim_verify.mjs) and a real DNS server
// (dnsmasq) publishing the keys. Debian 12's Mail::DKIM has no ed25519-sha256, so mailauth is the
// second verifier of ed25519 signatures.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnsmasq_server.h"

namespace lbmail::dkim {
class DkimKey;
}

namespace lbmail::test {

// dnsmasq with the TXT record of every key; verify() runs the three verifiers on files.
class DkimVerifiers {
 public:
  explicit DkimVerifiers(std::vector<const dkim::DkimKey*> keys);
  // "" once dnsmasq answers, or why not.
  std::string start();

  struct Result {
    // Each: every signature of every file passed that verifier.
    bool dkimpy_pass = false, mail_dkim_pass = false, mailauth_pass = false;
    std::string output;  // the verifiers' lines, for messages
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
