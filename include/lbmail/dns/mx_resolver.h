// Where mail for a domain goes: MX lookup on the libuv loop (c-ares), hosts by preference with
// their addresses, cached by TTL, one query per name in flight, static routes that bypass DNS;
// and the TXT, TLSA and address lookups that MTA-STS and DANE need, on the same cache.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lbmail/dns/mx_answer.h"
#include "lbmail/dns/record_answers.h"
#include "lbmail/dns/resolver_config.h"
#include "lbmail/dns/resolver_stats.h"

namespace lbmail::dns {

class MxResolver {
 public:
  using Clock = ResolverClock;
  using Done = MxDone;

  // clock defaults to steady_clock::now; tests inject one to expire TTLs.
  MxResolver(uv_loop_t* loop, ResolverConfig config, Clock clock = {});
  MxResolver(const MxResolver&) = delete;
  MxResolver& operator=(const MxResolver&) = delete;
  ~MxResolver();

  // "" or an error text (bad servers, c-ares init failure).
  std::string start();
  // domain is case-insensitive, with or without a trailing dot. done runs exactly once, on the
  // loop; from the cache, for a static route, or for a name that is not a valid domain
  // (kPermanent "invalid domain") it runs before resolve() returns. Never after close() has
  // been called; resolve() after close() drops done. start() must have succeeded.
  void resolve(std::string_view domain, Done done);
  // The TXT records of name ("_mta-sts.example.com"), TLSA records of name
  // ("_25._tcp.mx.example.com", RFC 7672 section 2.2.3), and a host's A and AAAA records. Static
  // routes do not apply. done follows resolve()'s rules: exactly once, on the loop, at once
  // from the cache or for an invalid name (kPermanent "invalid domain"), never after close().
  void lookupTxt(std::string_view name, TxtDone done);
  void lookupTlsa(std::string_view name, TlsaDone done);
  void lookupAddresses(std::string_view host, AddressDone done);
  // Cancels every lookup (their callbacks do not run) and closes the handles; done runs once
  // they are closed (at once when start() was never called). May be called from a Done.
  // The resolver may be destroyed from done, not before.
  void close(std::function<void()> done);

  const ResolverStats& stats() const { return stats_; }
  // (name, type) answers in the cache, expired ones not yet dropped included.
  size_t cacheSize() const;

 private:
  class Impl;
  ResolverStats stats_;  // before impl_, which counts into it
  std::unique_ptr<Impl> impl_;
};

}  // namespace lbmail::dns
