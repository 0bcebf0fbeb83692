// MTA-STS policy discovery (RFC 8461 section 3): the TXT record, then the policy over HTTPS
// when the record's id is not the cached policy's, with the cached policy standing in for one
// that cannot be had (section 3.3).
#include "lbmail/mta_sts/mta_sts_resolver.h"

#include <cassert>
#include <utility>

#include "https_fetcher.h"
#include "lbmail/core/log.h"
#include "lbmail/dns/domain_name.h"
#include "policy_cache.h"

namespace lbmail::mta_sts {
namespace {

// RFC 8461 section 3.3: the policy's fixed place on the policy host.
constexpr const char* kPolicyPath = "/.well-known/mta-sts.txt";

HttpsFetchSettings fetchSettings(const MtaStsSettings& s) {
  HttpsFetchSettings f;
  f.ca_file = s.ca_file;
  f.timeout = s.fetch_timeout;
  f.max_body = kMaxPolicyBytes;
  f.content_type = "text/plain";  // RFC 8461 section 3.3
  return f;
}

}  // namespace

MtaStsResolver::MtaStsResolver(uv_loop_t* loop, dns::MxResolver& dns, MtaStsSettings settings, Clock clock)
    : dns_(dns),
      settings_(std::move(settings)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      fetcher_(std::make_unique<HttpsFetcher>(loop, fetchSettings(settings_))),
      cache_(std::make_unique<PolicyCache>(settings_.max_cached)) {}

MtaStsResolver::~MtaStsResolver() = default;

std::string MtaStsResolver::start() {
  std::string error = fetcher_->start();
  started_ = error.empty();
  return error;
}

size_t MtaStsResolver::cacheSize() const { return cache_->size(); }

void MtaStsResolver::lookup(std::string_view domain, MtaStsDone done) {
  assert(started_);
  if (!*alive_) return;
  ++stats_.lookups;
  std::optional<std::string> name = dns::normalizeDomain(domain);
  if (!name) {
    done(MtaStsLookup{nullptr, "invalid domain"});
    return;
  }
  auto [it, fresh] = pending_.try_emplace(*name);
  it->second.push_back(std::move(done));
  if (!fresh) {
    ++stats_.joined;
    return;
  }
  // The answer may come before lookupTxt returns (the DNS cache): nothing here runs after it.
  dns_.lookupTxt("_mta-sts." + *name, [this, alive = alive_, d = *name](const dns::TxtAnswer& a) {
    if (*alive) onRecord(d, a);
  });
}

void MtaStsResolver::onRecord(const std::string& domain, const dns::TxtAnswer& answer) {
  Expected<std::string, std::string> id = unexpected(answer.reason);
  if (answer.status == dns::LookupStatus::kOk) id = selectMtaStsRecord(answer.texts);
  const CachedPolicy* cached = cache_->find(domain, now());
  if (!id) {
    // RFC 8461 section 3.3: with no live record, a valid cached policy still applies.
    std::string note = "no MTA-STS record: " + id.error();
    if (!cached) return finish(domain, nullptr, note);
    return finish(domain, cached->policy, note + "; cached id=" + cached->id);
  }
  if (cached && cached->id == *id) {
    ++stats_.cache_hits;
    return finish(domain, cached->policy, "cached id=" + *id);
  }
  auto f = failures_.find(domain);
  if (f != failures_.end() && f->second.id == *id && f->second.until > now()) return failed(domain, f->second.why);
  fetchPolicy(domain, *id);
}

void MtaStsResolver::fetchPolicy(const std::string& domain, const std::string& id) {
  ++stats_.fetches;
  std::string host = "mta-sts." + domain;
  dns_.lookupAddresses(host, [this, alive = alive_, domain, id, host](const dns::AddressAnswer& a) {
    if (!*alive) return;
    if (a.status != dns::LookupStatus::kOk || a.addresses.empty()) {
      ++stats_.fetch_failures;
      return failed(domain, rememberFailure(domain, id, "policy host " + host + ": " + a.reason));
    }
    std::vector<SocketAddress> addresses;
    std::string refused;
    for (const SocketAddress& address : a.addresses) {
      std::string why = settings_.address_refusal ? settings_.address_refusal(address) : std::string();
      if (why.empty()) {
        addresses.push_back(address);
      } else if (refused.empty()) {
        refused = std::move(why);
      }
    }
    if (addresses.empty()) {
      ++stats_.fetch_failures;
      return failed(domain, rememberFailure(domain, id, "policy host " + host + ": " + refused));
    }
    HttpsRequest request{host, settings_.port, kPolicyPath, std::move(addresses)};
    fetcher_->fetch(request, [this, domain, id](const HttpsResponse& r) { onFetched(domain, id, r); });
  });
}

void MtaStsResolver::onFetched(const std::string& domain, const std::string& id, const HttpsResponse& response) {
  std::string why;
  if (!response.error.empty()) {
    why = "policy fetch failed: " + response.error;
  } else if (auto policy = parseMtaStsPolicy(response.body); !policy) {
    why = "policy refused: " + policy.error();
  } else {
    auto shared = std::make_shared<const MtaStsPolicy>(std::move(*policy));
    cache_->store(domain, CachedPolicy{id, shared, now() + shared->max_age}, now());
    failures_.erase(domain);
    logInfo("mta_sts.policy", {{"domain", domain}, {"id", id}, {"mode", modeName(shared->mode)}});
    return finish(domain, std::move(shared), "fetched id=" + id);
  }
  ++stats_.fetch_failures;
  failed(domain, rememberFailure(domain, id, why));
}

std::string MtaStsResolver::rememberFailure(const std::string& domain, const std::string& id, std::string why) {
  logWarn("mta_sts.fetch_failed", {{"domain", domain}, {"id", id}, {"error", why}});
  auto t = now();
  if (failures_.size() >= settings_.max_cached) std::erase_if(failures_, [t](const auto& f) { return f.second.until <= t; });
  if (failures_.size() < settings_.max_cached) failures_[domain] = Failure{id, why, t + settings_.failure_ttl};
  return why;
}

void MtaStsResolver::failed(const std::string& domain, const std::string& why) {
  const CachedPolicy* cached = cache_->find(domain, now());
  if (!cached) return finish(domain, nullptr, why);
  finish(domain, cached->policy, why + "; cached id=" + cached->id);
}

void MtaStsResolver::finish(const std::string& domain, std::shared_ptr<const MtaStsPolicy> policy, std::string note) {
  auto it = pending_.find(domain);
  if (it == pending_.end()) return;
  std::vector<MtaStsDone> waiters = std::move(it->second);
  pending_.erase(it);
  MtaStsLookup result{std::move(policy), std::move(note)};
  // A callback may close the resolver: the others then do not run.
  std::shared_ptr<bool> alive = alive_;
  for (MtaStsDone& done : waiters) {
    if (!*alive) return;
    done(result);
  }
}

void MtaStsResolver::close(std::function<void()> done) {
  *alive_ = false;
  pending_.clear();
  fetcher_->close(std::move(done));
}

}  // namespace lbmail::mta_sts
