// TLS policy lookups per destination domain.
#include "tls_policy_resolver.h"

namespace lbmail::delivery {
namespace {

std::vector<HostTls> mtaStsHosts(const std::vector<std::string>& hosts, const mta_sts::MtaStsPolicy* policy) {
  std::vector<HostTls> out;
  for (const std::string& h : hosts) out.push_back(mtaStsHostTls(h, policy));
  return out;
}

}  // namespace

// The TLSA lookups of one domain's MX hosts, gathered until the last answers.
struct TlsPolicyResolver::Pending {
  std::vector<HostTls> hosts;
  size_t waiting = 0;
  Done done;
};

TlsPolicyResolver::TlsPolicyResolver(const TlsConfig& config, uint16_t smtp_port, dns::MxResolver& dns,
                                     mta_sts::MtaStsResolver* mta_sts)
    : config_(config), smtp_port_(smtp_port), dns_(dns), mta_sts_(mta_sts) {}

void TlsPolicyResolver::resolve(const std::string& domain, const dns::MxAnswer& answer, Done done) {
  TlsPolicy policy = config_.policyFor(domain);
  // A static route is the operator's own choice of host, with no DNS name to look records up
  // for: dane and mta-sts act there as opportunistic.
  bool looked_up = !answer.static_route && (policy == TlsPolicy::kDane || policy == TlsPolicy::kMtaSts);
  if (looked_up && policy == TlsPolicy::kDane) return resolveDane(answer, std::move(done));
  if (looked_up) return resolveMtaSts(domain, answer, std::move(done));
  std::vector<HostTls> hosts;
  for (const dns::MxTarget& t : answer.targets) hosts.push_back(staticHostTls(policy, t.host));
  done(std::move(hosts));
}

void TlsPolicyResolver::resolveDane(const dns::MxAnswer& answer, Done done) {
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  pending->hosts.resize(answer.targets.size());
  std::vector<size_t> asked;
  for (size_t i = 0; i < answer.targets.size(); ++i) {
    const dns::MxTarget& t = answer.targets[i];
    // TLSA records count only for a host whose addresses DNSSEC vouched for (RFC 7672
    // section 2.2.2); the others are opportunistic without asking.
    if (t.authenticated && !t.host.empty()) {
      asked.push_back(i);
    } else {
      pending->hosts[i] = daneHostTls(t.host, TlsaLookup{});
    }
  }
  pending->waiting = asked.size();
  if (asked.empty()) {
    pending->done(std::move(pending->hosts));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  for (size_t i : asked) {
    std::string host = answer.targets[i].host;
    std::string name = "_" + std::to_string(smtp_port_) + "._tcp." + host;
    dns_.lookupTlsa(name, [alive, pending, i, host](const dns::TlsaAnswer& a) {
      if (!alive.lock()) return;
      TlsaLookup lookup;
      lookup.authenticated = a.authenticated;
      lookup.records = a.records;
      lookup.reason = a.reason;
      switch (a.status) {
        case dns::LookupStatus::kOk: lookup.status = TlsaLookup::Status::kFound; break;
        case dns::LookupStatus::kPermanent: lookup.status = TlsaLookup::Status::kNone; break;
        case dns::LookupStatus::kTemporary: lookup.status = TlsaLookup::Status::kFailed; break;
      }
      pending->hosts[i] = daneHostTls(host, lookup);
      if (--pending->waiting == 0) pending->done(std::move(pending->hosts));
    });
  }
}

void TlsPolicyResolver::resolveMtaSts(const std::string& domain, const dns::MxAnswer& answer, Done done) {
  std::vector<std::string> hosts;
  for (const dns::MxTarget& t : answer.targets) hosts.push_back(t.host);
  if (!mta_sts_) {
    done(mtaStsHosts(hosts, nullptr));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  mta_sts_->lookup(domain, [alive, hosts = std::move(hosts), done = std::move(done)](const mta_sts::MtaStsLookup& l) {
    if (alive.lock()) done(mtaStsHosts(hosts, l.policy.get()));
  });
}

}  // namespace lbmail::delivery
