// One TLSA record (RFC 6698 section 2.1): which certificate or key a TLS server must present.
#pragma once

#include <cstdint>
#include <vector>

namespace lbmail::dns {

struct TlsaRecord {
  uint8_t usage = 0;          // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE
  uint8_t selector = 0;       // 0 whole certificate, 1 SubjectPublicKeyInfo
  uint8_t matching_type = 0;  // 0 exact, 1 SHA-256, 2 SHA-512
  std::vector<uint8_t> data;  // the certificate association data

  bool operator==(const TlsaRecord&) const = default;
};

}  // namespace lbmail::dns
