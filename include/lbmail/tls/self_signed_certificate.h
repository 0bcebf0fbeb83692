// A self-signed server certificate and its key, written to PEM files: what a test or the
// simulation gives a TLS server when no CA is involved.
#pragma once

#include <string>
#include <vector>

namespace lbmail::tls {

// A new EC P-256 key and a certificate signed by it (SHA-256), valid from an hour ago for
// days, with names[0] as its CN and every name as a subjectAltName (DNS, or IP for an address
// literal). Both files are written 0600 (lbmail reads only owner-only keys). "" when done, else
// why not.
std::string writeSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                       const std::vector<std::string>& names, int days = 365);

}  // namespace lbmail::tls
