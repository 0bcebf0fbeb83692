// The bouncing Postfix: PostfixTlsServer with an smtp client, a transport map to the relay and
// a mailbox map that knows one user.
#include "postfix_bouncer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace lbmail::test {

PostfixBouncer::PostfixBouncer(std::string domain, std::string bounce_domain, const SocketAddress& relay,
                               const std::vector<std::string>& known)
    : domain_(domain) {
  std::string pattern = ::testing::TempDir();
  if (!pattern.empty() && pattern.back() == '/') pattern.pop_back();
  pattern += "/lbmail-bouncer-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr && ::chmod(pattern.c_str(), 0755) == 0) dir_ = pattern;
  std::ofstream users(dir_ + "/known");
  for (const std::string& user : known) users << user << "@" << domain << " " << domain << "/\n";
  users.close();
  // The bracketed address needs no DNS (transport(5)); the smtp client does no MX lookups.
  std::ofstream(dir_ + "/transport") << bounce_domain << " smtp:[" << relay.host() << "]:" << relay.port() << "\n";
  PostfixTlsServer::Options o;
  o.hostname = "mx.dsn.test";
  o.domains = {domain};
  o.master_cf = {"smtp      unix  - - n - - smtp"};
  o.main_cf = {
      "virtual_mailbox_maps = texthash:" + dir_ + "/known",
      // Taken at RCPT, refused by virtual(8) at delivery: the bounce comes later, as mail.
      "smtpd_reject_unlisted_recipient = no",
      "transport_maps = texthash:" + dir_ + "/transport",
      "smtp_dns_support_level = disabled",
      "smtp_host_lookup = native",
      "smtp_tls_security_level = none",
  };
  server_ = std::make_unique<PostfixTlsServer>(std::move(o));
}

PostfixBouncer::~PostfixBouncer() {
  server_.reset();  // stops it
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string PostfixBouncer::start() {
  if (dir_.empty()) return "cannot make a temporary directory";
  return server_->start();
}

}  // namespace lbmail::test
