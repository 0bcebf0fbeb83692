// Reading [dkim]: keys loaded and checked at start-up, so a bad key stops the gateway there and
// never shows up as unsigned mail.
#include "lbmail/dkim/dkim_config.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "lbmail/core/config_path.h"
#include "lbmail/dkim/dns_record.h"

namespace lbmail::dkim {
namespace {

using namespace std::chrono_literals;

std::string dnsNameKey(ConfigTable& t, std::string_view key) {
  std::optional<std::string> value = t.optionalString(key);
  // d= and s= carry it and it names a DNS record (RFC 6376 3.5); see signingName.
  std::optional<std::string> name = value ? signingName(*value) : std::nullopt;
  if (!name) t.fail(key, "a DNS name such as \"example.com\"");
  return *name;
}

DkimKey readKey(ConfigTable& t, const std::string& config_file) {
  DkimKeyConfig c;
  c.domain = dnsNameKey(t, "domain");
  c.selector = dnsNameKey(t, "selector");
  size_t a = t.choice("algorithm", {"rsa-sha256", "ed25519-sha256", "rsa", "ed25519"}, 0);
  c.algorithm = a % 2 == 0 ? Algorithm::kRsaSha256 : Algorithm::kEd25519Sha256;
  std::optional<std::string> file = t.optionalString("key_file");
  if (!file || file->empty()) t.fail("key_file", "the path of the key's PEM file (lbmail dkim keygen)");
  c.key_file = resolveConfigPath(config_file, *file);
  auto key = DkimKey::load(c);
  if (!key) t.fail("key_file", "a usable DKIM private key: " + key.error());
  return *key;
}

bool hasKeysOf(const std::vector<DkimKey>& keys, const std::string& domain) {
  return std::any_of(keys.begin(), keys.end(), [&](const DkimKey& k) { return k.domain() == domain; });
}

}  // namespace

DkimConfig readDkimConfig(ConfigTable t, const std::string& config_file) {
  DkimConfig c;
  using C = Canonicalization;
  // In the order of the choices below: header, then body.
  constexpr std::pair<C, C> kForms[] = {
      {C::kRelaxed, C::kRelaxed}, {C::kRelaxed, C::kSimple}, {C::kSimple, C::kRelaxed}, {C::kSimple, C::kSimple}};
  std::tie(c.header, c.body) =
      kForms[t.choice("canonicalization", {"relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple"}, 0)];
  c.expire = std::chrono::duration_cast<std::chrono::seconds>(t.duration("expire", 0s, 0s, 24h * 3650));
  c.signer_threads = static_cast<unsigned>(t.integer("signer_threads", 0, 0, 1024));
  for (ConfigTable& entry : t.tableArray("domain")) {
    DkimKey key = readKey(entry, config_file);
    for (const DkimKey& other : c.keys) {
      if (other.domain() == key.domain() && other.selector() == key.selector()) {
        entry.fail("selector", "a selector not used twice for domain " + key.domain());
      }
    }
    c.keys.push_back(std::move(key));
  }
  std::string default_domain = t.string("default_domain", "");
  if (!default_domain.empty()) {
    // Only a valid name can have keys: one check says both.
    c.default_domain = signingName(default_domain).value_or("");
    if (!hasKeysOf(c.keys, c.default_domain)) t.fail("default_domain", "a domain with a [[dkim.domain]] key");
  }
  return c;
}

}  // namespace lbmail::dkim
