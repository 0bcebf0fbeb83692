// Where one side of a link keeps its secrets: the deployment's key file (TLS 1.3 PSK), or a
// certificate, its key and the private CA (mutual TLS). Read from [gateway] on a gateway and
// from each [[gateway]] on an initiator, with the same keys.
#pragma once

#include <string>

#include "lbmail/core/config_document.h"

namespace lbmail::proto {

struct LinkCredentials {
  std::string key_file;
  std::string ca_file;        // the private CA that signs both sides' certificates
  std::string cert_file;      // this side's certificate chain (PEM)
  std::string cert_key_file;  // its private key (PEM; owner-only, as the key file)

  bool usesCertificates() const { return !cert_file.empty(); }
};

// key_file, or all of tls_ca_file, tls_cert_file and tls_key_file (never both: one table, one
// way to authenticate). Paths are relative to the configuration file's folder.
LinkCredentials readLinkCredentials(ConfigTable& t, const std::string& config_file);

}  // namespace lbmail::proto
