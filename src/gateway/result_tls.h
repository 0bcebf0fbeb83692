// RESULT's TLS fields from how the delivery's connection was protected.
#pragma once

#include <cstdint>

#include "lbmail/delivery/delivery_result.h"
#include "lbmail/proto/frames.h"

namespace lbmail {

// Sets them on result (sent to initiators that asked for them); result's version is a view
// into tls, which must outlive the frame's encoding.
inline void setResultTls(proto::ResultFrame& result, const delivery::TlsInfo& tls) {
  result.has_tls = true;
  result.tls_version = tls.version;
  result.tls_verified = tls.verified;
  result.tls_dane = tls.dane;
  result.tls_policy = static_cast<uint8_t>(tls.policy);
}

}  // namespace lbmail
