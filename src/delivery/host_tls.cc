// TLS policy decisions per MX host (RFC 7672 for DANE).
#include "host_tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>

namespace lbmail::delivery {

HostTls staticHostTls(TlsPolicy policy, const std::string& host) {
  TlsRequirement r;
  r.policy = policy;
  r.host = host;
  switch (policy) {
    case TlsPolicy::kNone: r.level = TlsLevel::kNone; break;
    case TlsPolicy::kEncrypt: r.level = TlsLevel::kEncrypt; break;
    case TlsPolicy::kVerify: r.level = TlsLevel::kVerify; break;
    default: r.level = TlsLevel::kMay; break;  // and dane or mta-sts without what they need
  }
  return HostTls::use(std::move(r));
}

namespace {

// The association data has the form its matching type says (RFC 6698 section 2.1.3): a
// SHA-256 or SHA-512 digest of the right length, or the whole certificate or key, which must
// parse. A record that cannot match anything is not usable (RFC 7672 section 2.2).
bool wellFormed(const dns::TlsaRecord& t) {
  if (t.matching_type == 1) return t.data.size() == 32;
  if (t.matching_type == 2) return t.data.size() == 64;
  const unsigned char* p = t.data.data();
  long n = static_cast<long>(t.data.size());
  bool parsed = false;
  if (t.selector == 0) {
    X509* cert = d2i_X509(nullptr, &p, n);
    parsed = cert != nullptr;
    X509_free(cert);
  } else {
    EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, n);
    parsed = key != nullptr;
    EVP_PKEY_free(key);
  }
  if (!parsed) ERR_clear_error();  // the parser's complaint is not the next call's
  return parsed;
}

}  // namespace

std::vector<dns::TlsaRecord> usableTlsa(const std::vector<dns::TlsaRecord>& records) {
  std::vector<dns::TlsaRecord> usable;
  for (const dns::TlsaRecord& t : records) {
    // Usages 2 (DANE-TA) and 3 (DANE-EE); selectors 0 and 1; matching types 0, 1, 2 (RFC 6698).
    bool ok = (t.usage == 2 || t.usage == 3) && t.selector <= 1 && t.matching_type <= 2 && !t.data.empty();
    if (ok && wellFormed(t)) usable.push_back(t);
  }
  return usable;
}

HostTls daneHostTls(const std::string& host, const TlsaLookup& lookup) {
  TlsRequirement r;
  r.policy = TlsPolicy::kDane;
  r.host = host;
  r.level = TlsLevel::kMay;
  switch (lookup.status) {
    case TlsaLookup::Status::kFailed:
      return HostTls::refuse("DANE: TLSA lookup for " + host + " failed: " + lookup.reason);
    case TlsaLookup::Status::kNone:
      return HostTls::use(std::move(r));
    case TlsaLookup::Status::kFound:
      break;
  }
  // Records a validating resolver did not vouch for could come from anyone (RFC 7672 2.2).
  if (!lookup.authenticated) return HostTls::use(std::move(r));
  r.tlsa = usableTlsa(lookup.records);
  // Secure records, none usable: TLS is still mandatory, unauthenticated (RFC 7672 2.2).
  r.level = r.tlsa.empty() ? TlsLevel::kEncrypt : TlsLevel::kDane;
  return HostTls::use(std::move(r));
}

HostTls mtaStsHostTls(const std::string& host, const mta_sts::MtaStsPolicy* policy) {
  using Mode = mta_sts::MtaStsPolicy::Mode;
  TlsRequirement r;
  r.policy = TlsPolicy::kMtaSts;
  r.host = host;
  r.level = TlsLevel::kMay;
  if (!policy || policy->mode == Mode::kNone) return HostTls::use(std::move(r));
  if (policy->mode == Mode::kTesting) {
    r.testing = true;
    return HostTls::use(std::move(r));
  }
  if (!policy->matches(host)) {
    std::string names;
    for (const std::string& mx : policy->mx) names += (names.empty() ? "" : ", ") + mx;
    return HostTls::refuse("MTA-STS: MX host " + (host.empty() ? std::string("(none)") : host) +
                           " is not in the domain's enforced policy (mx: " + names + ")");
  }
  r.level = TlsLevel::kVerify;
  return HostTls::use(std::move(r));
}

}  // namespace lbmail::delivery
