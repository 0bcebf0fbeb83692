// Which MTA-STS policy applies to a recipient domain (RFC 8461 sections 3 and 5): the
// _mta-sts TXT record's id, the policy fetched over HTTPS from mta-sts.<domain> when the id is
// new, cached for its max_age, one fetch per domain in flight.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lbmail/dns/mx_resolver.h"
#include "lbmail/mta_sts/mta_sts_lookup.h"
#include "lbmail/mta_sts/mta_sts_settings.h"

namespace lbmail::mta_sts {

class HttpsFetcher;
class PolicyCache;
struct HttpsResponse;

class MtaStsResolver {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // dns must outlive the resolver. clock defaults to steady_clock::now; tests inject one to
  // expire policies.
  MtaStsResolver(uv_loop_t* loop, dns::MxResolver& dns, MtaStsSettings settings, Clock clock = {});
  MtaStsResolver(const MtaStsResolver&) = delete;
  MtaStsResolver& operator=(const MtaStsResolver&) = delete;
  ~MtaStsResolver();

  // "" or why policies cannot be fetched (libcurl).
  std::string start();
  // domain: the recipient domain, any case, trailing dot or not. done runs exactly once, on
  // the loop, possibly before lookup() returns (answers from the DNS and policy caches);
  // never after close(). Lookups for a domain already being looked up wait for that one.
  void lookup(std::string_view domain, MtaStsDone done);
  // Drops every lookup (their callbacks do not run) and closes the fetcher; done runs once
  // it has closed. The resolver may be destroyed from done, not before.
  void close(std::function<void()> done);

  const MtaStsStats& stats() const { return stats_; }
  size_t cacheSize() const;

 private:
  struct Failure {
    std::string id;
    std::string why;
    std::chrono::steady_clock::time_point until;
  };

  void onRecord(const std::string& domain, const dns::TxtAnswer& answer);
  void fetchPolicy(const std::string& domain, const std::string& id);
  void onFetched(const std::string& domain, const std::string& id, const HttpsResponse& response);
  // The failure's outcome: the cached policy while it is valid (RFC 8461 section 3.3), else none.
  void failed(const std::string& domain, const std::string& why);
  // Logs a failed fetch and keeps it for failure_ttl; returns why.
  std::string rememberFailure(const std::string& domain, const std::string& id, std::string why);
  void finish(const std::string& domain, std::shared_ptr<const MtaStsPolicy> policy, std::string note);
  std::chrono::steady_clock::time_point now() const { return clock_(); }

  dns::MxResolver& dns_;
  MtaStsSettings settings_;
  Clock clock_;
  MtaStsStats stats_;
  std::unique_ptr<HttpsFetcher> fetcher_;
  std::unique_ptr<PolicyCache> cache_;
  // domain -> the callbacks waiting on its lookup in flight.
  std::unordered_map<std::string, std::vector<MtaStsDone>> pending_;
  // domain -> its last failed fetch, answered from while it lasts.
  std::unordered_map<std::string, Failure> failures_;
  // False from close() on: DNS answers, which cannot be cancelled, then find nobody.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool started_ = false;
};

}  // namespace lbmail::mta_sts
