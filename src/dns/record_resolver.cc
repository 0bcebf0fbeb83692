// Coalesced, cached DNS questions.
#include "record_resolver.h"

#include <algorithm>

namespace lbmail::dns {

RecordResolver::RecordResolver(DnsChannel& channel, RecordCache& cache, const ResolverConfig& config,
                               const ResolverClock& clock)
    : channel_(channel), cache_(cache), reader_(config), clock_(clock) {}

const RecordSet* RecordResolver::cached(const std::string& name, uint16_t type) {
  return cache_.find(name, type, clock_());
}

void RecordResolver::fetch(const std::string& name, uint16_t type, Waiter waiter) {
  std::string k = key(name, type);
  auto [it, first] = pending_.try_emplace(k);
  it->second.push_back(std::move(waiter));
  if (!first) return;
  ask(name, type, 0, [this, k](RecordSet set) { complete(k, std::move(set)); });
}

void RecordResolver::ask(const std::string& name, uint16_t type, int hops, Finish finish) {
  channel_.query(name, type,
                 [this, name, type, hops, finish = std::move(finish)](int status, std::span<const uint8_t> message) {
                   onAnswer(name, type, hops, finish, status, message);
                 });
}

void RecordResolver::onAnswer(const std::string& name, uint16_t type, int hops, const Finish& finish, int status,
                              std::span<const uint8_t> message) {
  TimePoint now = clock_();
  RecordReading reading = reader_.read(name, type, status, message, now);
  if (!reading.follow.empty()) {
    follow(name, reading, type, hops + reading.hops, finish);
    return;
  }
  cache_.store(name, type, reading.set, now);
  finish(std::move(reading.set));
}

// The target of a CNAME is asked by a query of its own, never joined to one in flight: two
// names that are CNAMEs of each other would otherwise wait on each other for ever. The name
// asked for is cached with the target's result, for no longer than the CNAMEs on the way.
void RecordResolver::follow(const std::string& name, const RecordReading& reading, uint16_t type, int hops,
                            const Finish& finish) {
  TimePoint chain_expires = reading.set.expires;
  bool chain_authenticated = reading.set.authenticated;
  auto through_chain = [this, name, type, chain_expires, chain_authenticated, finish](RecordSet set) {
    set.expires = std::min(set.expires, chain_expires);
    // Secure only if every step was: an unvalidated CNAME may point anywhere.
    set.authenticated = set.authenticated && chain_authenticated;
    cache_.store(name, type, set, clock_());
    finish(std::move(set));
  };
  if (const RecordSet* hit = cached(reading.follow, type)) {
    through_chain(*hit);
    return;
  }
  if (hops >= kMaxCnameHops) {
    through_chain(reader_.temporary("CNAME chain longer than " + std::to_string(kMaxCnameHops), clock_()));
    return;
  }
  ask(reading.follow, type, hops, through_chain);
}

void RecordResolver::complete(const std::string& k, RecordSet set) {
  auto it = pending_.find(k);
  if (it == pending_.end()) return;
  std::vector<Waiter> waiters = std::move(it->second);
  pending_.erase(it);
  // The name was stored with the answer already; the waiters see the same result.
  for (Waiter& w : waiters) w(set);
}

}  // namespace lbmail::dns
