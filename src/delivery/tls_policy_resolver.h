// From a destination domain's configured TLS policy and its MX answer to a TLS requirement (or
// a refusal) per MX host: at once for the static policies, after TLSA lookups for dane
// (RFC 7672) and after the domain's MTA-STS policy for mta-sts (RFC 8461).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host_tls.h"
#include "lbmail/delivery/delivery_config.h"
#include "lbmail/dns/mx_answer.h"
#include "lbmail/dns/mx_resolver.h"
#include "lbmail/mta_sts/mta_sts_resolver.h"

namespace lbmail::delivery {

class TlsPolicyResolver {
 public:
  // One HostTls per target of the answer, in its order.
  using Done = std::function<void(std::vector<HostTls>&& hosts)>;

  // config, dns and mta_sts must outlive the resolver; smtp_port names the TLSA records
  // (_port._tcp.host, RFC 7672 section 2.2.1). mta_sts null: no policy can be fetched, and
  // mta-sts domains are treated as having none (RFC 8461 section 5).
  TlsPolicyResolver(const TlsConfig& config, uint16_t smtp_port, dns::MxResolver& dns, mta_sts::MtaStsResolver* mta_sts);
  TlsPolicyResolver(const TlsPolicyResolver&) = delete;
  TlsPolicyResolver& operator=(const TlsPolicyResolver&) = delete;

  // done runs once: inside this call when nothing need be looked up, else from a lookup's
  // answer on the loop; never after the resolver is destroyed.
  void resolve(const std::string& domain, const dns::MxAnswer& answer, Done done);

 private:
  struct Pending;

  void resolveDane(const dns::MxAnswer& answer, Done done);
  void resolveMtaSts(const std::string& domain, const dns::MxAnswer& answer, Done done);

  const TlsConfig& config_;
  uint16_t smtp_port_;
  dns::MxResolver& dns_;
  mta_sts::MtaStsResolver* mta_sts_;
  // Answers that arrive after the resolver is gone find this expired.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace lbmail::delivery
