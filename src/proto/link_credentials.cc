// Reading link credentials from a configuration table.
#include "lbmail/proto/link_credentials.h"

#include "lbmail/core/config_path.h"

namespace lbmail::proto {

LinkCredentials readLinkCredentials(ConfigTable& t, const std::string& config_file) {
  LinkCredentials c;
  auto path = [&](std::string_view key) {
    std::optional<std::string> value = t.optionalString(key);
    return value && !value->empty() ? resolveConfigPath(config_file, *value) : std::string();
  };
  c.key_file = path("key_file");
  c.ca_file = path("tls_ca_file");
  c.cert_file = path("tls_cert_file");
  c.cert_key_file = path("tls_key_file");
  bool any_certificate = !c.ca_file.empty() || !c.cert_file.empty() || !c.cert_key_file.empty();
  if (any_certificate && !c.key_file.empty()) {
    t.fail("key_file", "either key_file (a pre-shared key) or tls_ca_file, tls_cert_file and tls_key_file, not both");
  }
  if (any_certificate && (c.ca_file.empty() || c.cert_file.empty() || c.cert_key_file.empty())) {
    t.fail(c.ca_file.empty() ? "tls_ca_file" : c.cert_file.empty() ? "tls_cert_file" : "tls_key_file",
           "all three of tls_ca_file, tls_cert_file and tls_key_file for certificate authentication");
  }
  // Without a key or a certificate there is no authentication: a gateway would be an open relay.
  if (!any_certificate && c.key_file.empty()) t.fail("key_file", "the path of the link's pre-shared key file (required)");
  return c;
}

}  // namespace lbmail::proto
