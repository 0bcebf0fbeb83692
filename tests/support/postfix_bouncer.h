// A private Postfix that makes real bounces: it accepts mail for a domain at SMTP time whether
// the user exists or not (smtpd_reject_unlisted_recipient = no), finds at delivery that the user
// does not (virtual(8): 5.1.1 unknown user) and sends the DSN (RFC 3464) to the envelope sender
// through its own smtp(8) client to a given relay: the gateway's feedback listener. Built on
// PostfixTlsServer (its master.cf gains the smtp client); the master runs as root.
#pragma once

#include <memory>
#include <string>

#include "lbmail/core/socket_address.h"
#include "postfix_tls.h"

namespace lbmail::test {

class PostfixBouncer {
 public:
  // Mail for domain is taken; only known@domain exists. Bounces for bounce_domain go to relay.
  PostfixBouncer(std::string domain, std::string bounce_domain, const SocketAddress& relay);
  ~PostfixBouncer();

  // "" once it accepts connections, else why not.
  std::string start();
  const SocketAddress& address() const { return server_->address(); }
  std::string log() const { return server_->log(); }

 private:
  std::string dir_;  // the maps, readable by Postfix's daemons
  std::unique_ptr<PostfixTlsServer> server_;
};

}  // namespace lbmail::test
