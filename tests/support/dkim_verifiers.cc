// Runs the independent DKIM verifiers against dnsmasq serving the keys' records.
#include "dkim_verifiers.h"

#include "child_process.h"
#include "lbmail/dkim/dkim_key.h"
#include "lbmail/dkim/dns_record.h"
#include "validate.h"

namespace lbmail::test {
namespace {

// One verifier over files: true when it exited 0; its lines and stderr go to output.
bool runVerifier(const std::string& name, std::vector<std::string> argv, const std::vector<std::string>& files,
                 std::string& output) {
  argv.insert(argv.end(), files.begin(), files.end());
  ChildProcess child(argv);
  int code = exitCode(child.wait(std::chrono::seconds(60)));
  output += "[" + name + " exit " + std::to_string(code) + "]\n" + child.out() + child.err();
  return code == 0;
}

}  // namespace

DkimVerifiers::DkimVerifiers(std::vector<const dkim::DkimKey*> keys) {
  std::vector<std::string> records;
  for (const dkim::DkimKey* k : keys) records.push_back(txtRecordOption(*k));
  dns_ = std::make_unique<DnsmasqServer>(std::move(records));
}

std::string DkimVerifiers::txtRecordOption(const dkim::DkimKey& key) {
  // On the command line dnsmasq takes each comma-separated value as one character-string,
  // quotes and spaces included as they are; DKIM records hold no commas.
  std::string option = "--txt-record=" + key.selector() + "._domainkey." + key.domain();
  for (const std::string& s : dkim::txtCharacterStrings(key.dnsRecordText())) option += "," + s;
  return option;
}

std::string DkimVerifiers::start() { return dns_->start(); }

DkimVerifiers::Result DkimVerifiers::verify(const std::vector<std::string>& files) {
  std::string port = std::to_string(dns_->address().port());
  std::string support = testEnv("LBMAIL_SOURCE_ROOT") + "/tests/support/";
  Result r;
  r.dkimpy_pass = runVerifier("dkimpy", {testEnv("LBMAIL_PYTHON"), support + "dkim_verify.py", "--dns-port", port},
                              files, r.output);
  r.mail_dkim_pass = runVerifier("Mail::DKIM", {testEnv("LBMAIL_PERL"), support + "dkim_verify.pl", "--dns-port", port},
                                 files, r.output);
  r.mailauth_pass = runVerifier("mailauth", {testEnv("LBMAIL_NODE"), support + "mailauth/dkim_verify.mjs", "--dns-port", port},
                                files, r.output);
  return r;
}

}  // namespace lbmail::test
