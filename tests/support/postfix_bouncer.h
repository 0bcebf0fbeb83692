// A private Postfix that makes real bounces: it accepts mail for a domain at SMTP time whether
// the user exists or not (smtpd_reject_unlisted_recipient = no), finds at delivery that the user
// does not (virtual(8): 5.1.1 unknown user) and sends the DSN (RFC 3464) to the envelope sender
// through its own smtp(8) client to a given relay: the gateway's feedback listener. Built on
// PostfixTlsServer (its master.cf gains the smtp client); the master runs as root.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lbmail/core/socket_address.h"
#include "postfix_tls.h"

namespace lbmail::test {

class PostfixBouncer {
 public:
  // Mail for domain is taken; only the users named in known exist there (their mail is kept
  // in a Maildir), every other address bounces. Bounces for bounce_domain go to relay.
  PostfixBouncer(std::string domain, std::string bounce_domain, const SocketAddress& relay,
                 const std::vector<std::string>& known = {"known"});
  ~PostfixBouncer();

  // "" once it accepts connections, else why not.
  std::string start();
  const SocketAddress& address() const { return server_->address(); }
  std::string log() const { return server_->log(); }
  // The files of the messages delivered to known users so far, and a bounded wait for n of them.
  std::vector<std::string> messages() const { return server_->messages(domain_); }
  std::vector<std::string> waitForMessages(size_t n) { return server_->waitForMessages(domain_, n); }

 private:
  std::string domain_;
  std::string dir_;  // the maps, readable by Postfix's daemons
  std::unique_ptr<PostfixTlsServer> server_;
};

}  // namespace lbmail::test
