// Reading [dkim]: keys loaded and checked at start-up, so a bad key stops the gateway there and
// never shows up as unsigned mail.
#include "lbmail/dkim/dkim_config.h"

#include <algorithm>
#include <cctype>

#include "lbmail/core/config_path.h"

namespace lbmail::dkim {
namespace {

using namespace std::chrono_literals;

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Domains and selectors go into d= and s= and into a DNS name (RFC 6376 3.5: selector and
// domain are dot-separated sub-domains): letters, digits, '-', '_' and single inner dots.
bool isDnsName(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string dnsNameKey(ConfigTable& t, std::string_view key) {
  std::optional<std::string> value = t.optionalString(key);
  if (!value || !isDnsName(*value)) t.fail(key, "a DNS name such as \"example.com\"");
  return lowercase(*value);
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
  size_t canon = t.choice("canonicalization", {"relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple"}, 0);
  c.header = canon < 2 ? Canonicalization::kRelaxed : Canonicalization::kSimple;
  c.body = canon % 2 == 0 ? Canonicalization::kRelaxed : Canonicalization::kSimple;
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
  c.default_domain = lowercase(t.string("default_domain", ""));
  if (!c.default_domain.empty() && !hasKeysOf(c.keys, c.default_domain)) {
    t.fail("default_domain", "a domain with a [[dkim.domain]] key");
  }
  return c;
}

}  // namespace lbmail::dkim
