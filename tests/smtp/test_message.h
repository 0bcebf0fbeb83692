// A message for SMTP client tests: one body slice kept alive by its owner.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lbmail/smtp/outgoing_message.h"

namespace lbmail::smtp::test {

inline OutgoingMessage message(std::string body, std::vector<std::string> rcpts = {"b@y.test"}) {
  auto owned = std::make_shared<std::string>(std::move(body));
  OutgoingMessage m;
  m.mail_from = "a@x.test";
  m.recipients = std::move(rcpts);
  m.body = {*owned};
  m.owner = owned;
  return m;
}

}  // namespace lbmail::smtp::test
