// From a domain to its MX hosts and their addresses.
#include "mx_lookup.h"

#include <algorithm>

#include "dns_answer.h"

namespace lbmail::dns {

MxLookup::MxLookup(std::string domain, RecordResolver& records, const ResolverConfig& config, Finished finished)
    : domain_(std::move(domain)), records_(records), config_(config), finished_(std::move(finished)) {}

bool MxLookup::start() {
  starting_ = true;
  if (const RecordSet* mx = records_.cached(domain_, kTypeMx)) {
    onMx(*mx);
  } else {
    records_.fetch(domain_, kTypeMx, [this](const RecordSet& set) { onMx(set); });
  }
  starting_ = false;
  return done_;
}

void MxLookup::onMx(const RecordSet& mx) {
  answer_.authenticated = mx.authenticated;
  switch (mx.kind) {
    case RecordSet::Kind::kTemporary:
      finish(LookupStatus::kTemporary, mx.reason);
      return;
    case RecordSet::Kind::kNxDomain:
      finish(LookupStatus::kPermanent, "NXDOMAIN");
      return;
    case RecordSet::Kind::kNoData:
      // RFC 5321 section 5.1: without MX records the domain itself is the host, preference 0.
      answer_.implicit_mx = true;
      hosts_.push_back(Host{domain_, 0, {}, {}, 0, {}});
      lookUpHosts();
      return;
    case RecordSet::Kind::kRecords:
      useExchanges(mx.exchanges);
      return;
  }
}

void MxLookup::useExchanges(const std::vector<MxRecord>& exchanges) {
  // RFC 7505 section 3: one MX whose exchange is the root says the domain accepts no mail.
  // Its preference should be 0; any other would not make the root a host to try either.
  if (exchanges.size() == 1 && exchanges[0].host.empty()) {
    finish(LookupStatus::kPermanent, "null MX (RFC 7505)");
    return;
  }
  std::vector<MxRecord> sorted = exchanges;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  const size_t max_hosts = std::max<uint32_t>(config_.max_mx_hosts, 1);
  for (const MxRecord& mx : sorted) {
    if (hosts_.size() == max_hosts) break;
    // A root exchange among others breaks RFC 7505 section 3; the other hosts still take mail.
    if (mx.host.empty()) continue;
    bool seen = std::any_of(hosts_.begin(), hosts_.end(), [&](const Host& h) { return h.name == mx.host; });
    if (!seen) hosts_.push_back(Host{mx.host, mx.preference, {}, {}, 0, {}});
  }
  if (hosts_.empty()) {
    finish(LookupStatus::kPermanent, "null MX (RFC 7505)");
    return;
  }
  lookUpHosts();
}

void MxLookup::lookUpHosts() {
  // Counted in full first: answers from the cache arrive while the loop below still runs.
  answers_missing_ = hosts_.size() * 2;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    lookUp(i, kTypeA);
    lookUp(i, kTypeAaaa);
  }
}

void MxLookup::lookUp(size_t host, uint16_t type) {
  if (const RecordSet* hit = records_.cached(hosts_[host].name, type)) {
    onAddresses(host, type, *hit);
    return;
  }
  records_.fetch(hosts_[host].name, type, [this, host, type](const RecordSet& set) { onAddresses(host, type, set); });
}

void MxLookup::onAddresses(size_t host, uint16_t type, const RecordSet& set) {
  Host& h = hosts_[host];
  switch (set.kind) {
    case RecordSet::Kind::kRecords:
      (type == kTypeA ? h.v4 : h.v6) = set.addresses;
      h.insecure = h.insecure || !set.authenticated;
      break;
    case RecordSet::Kind::kNoData:
    case RecordSet::Kind::kNxDomain:
      ++h.negative;
      break;
    case RecordSet::Kind::kTemporary:
      if (h.temporary.empty()) h.temporary = set.reason;
      break;
  }
  if (--answers_missing_ == 0) compose();
}

// IPv4 addresses come first: a gateway sends from a configured source address, most often
// an IPv4 one, and the engine tries a host's addresses in order.
void MxLookup::compose() {
  for (Host& h : hosts_) {
    if (h.v4.empty() && h.v6.empty()) continue;
    MxTarget target{h.name, h.preference, std::move(h.v4)};
    target.addresses.insert(target.addresses.end(), h.v6.begin(), h.v6.end());
    target.authenticated = !h.insecure;
    answer_.targets.push_back(std::move(target));
  }
  if (!answer_.targets.empty()) {
    finish(LookupStatus::kOk, "");
    return;
  }
  const Host& first = hosts_.front();
  if (answer_.implicit_mx) {
    if (first.negative == 2) {
      finish(LookupStatus::kPermanent, "no MX and no A or AAAA record");
    } else {
      finish(LookupStatus::kTemporary, first.temporary);
    }
    return;
  }
  std::string reason = "MX hosts have no address";
  auto failed = std::find_if(hosts_.begin(), hosts_.end(), [](const Host& h) { return !h.temporary.empty(); });
  if (failed != hosts_.end()) reason += " (" + failed->name + ": " + failed->temporary + ")";
  finish(LookupStatus::kTemporary, std::move(reason));
}

void MxLookup::finish(LookupStatus status, std::string reason) {
  answer_.status = status;
  answer_.reason = std::move(reason);
  done_ = true;
  if (!starting_) finished_(*this);
}

}  // namespace lbmail::dns
