// The keyring: DKIM keys indexed by their d= domain.
#include "lbmail/dkim/dkim_keyring.h"

#include "lbmail/dns/domain_name.h"

namespace lbmail::dkim {

DkimKeyring::DkimKeyring(const DkimConfig& c) : keys_(c.keys) {
  for (const DkimKey& k : keys_) by_domain_[k.domain()].push_back(&k);  // domains are lowercase
  auto it = by_domain_.find(c.default_domain);
  if (!c.default_domain.empty() && it != by_domain_.end()) default_keys_ = &it->second;
}

std::span<const DkimKey* const> DkimKeyring::keysFor(std::string_view from_domain) const {
  // Lowercase, and an absolute name ("example.com.") is the same domain.
  std::string name = dns::normalizeDomain(from_domain).value_or("");
  // The domain itself, then each parent: a.b.example.com, b.example.com, example.com, com.
  for (std::string_view d = name; !d.empty();) {
    auto it = by_domain_.find(d);
    if (it != by_domain_.end()) return it->second;
    size_t dot = d.find('.');
    if (dot == std::string_view::npos) break;
    d.remove_prefix(dot + 1);
  }
  if (default_keys_) return *default_keys_;
  return {};
}

}  // namespace lbmail::dkim
