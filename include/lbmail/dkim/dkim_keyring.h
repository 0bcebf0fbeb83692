// Which DKIM keys sign a message, chosen by the domain of its From address.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lbmail/dkim/dkim_config.h"

namespace lbmail::dkim {

class DkimKeyring {
 public:
  explicit DkimKeyring(const DkimConfig& c);
  // The index points into keys_ and by_domain_: a copy would point into the original; a move
  // keeps the elements where they are.
  DkimKeyring(const DkimKeyring&) = delete;
  DkimKeyring& operator=(const DkimKeyring&) = delete;
  DkimKeyring(DkimKeyring&&) = default;
  DkimKeyring& operator=(DkimKeyring&&) = default;

  // Keys for mail From this domain: the exact domain's keys, else its nearest parent domain's
  // (d=example.com aligns with From a.example.com under DMARC relaxed alignment, RFC 7489
  // 3.1.1), else the default domain's; empty: do not sign. Case-insensitive. Several keys for
  // one domain (an RSA and an Ed25519 key, RFC 8463 section 5) all sign, in configuration order.
  std::span<const DkimKey* const> keysFor(std::string_view from_domain) const;
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<DkimKey> keys_;
  std::map<std::string, std::vector<const DkimKey*>, std::less<>> by_domain_;
  const std::vector<const DkimKey*>* default_keys_ = nullptr;
};

}  // namespace lbmail::dkim
