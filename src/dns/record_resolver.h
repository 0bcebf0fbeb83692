// Answers (name, type) questions from the cache or from DNS, with one query in flight per
// question whatever the number of waiters, and CNAMEs followed by new queries when the server
// did not follow them.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dns_channel.h"
#include "record_cache.h"
#include "record_reader.h"

namespace lbmail::dns {

class RecordResolver {
 public:
  using Waiter = std::function<void(const RecordSet&)>;

  RecordResolver(DnsChannel& channel, RecordCache& cache, const ResolverConfig& config, const ResolverClock& clock);

  // The cached result, or null. Valid until the next answer is stored.
  const RecordSet* cached(const std::string& name, uint16_t type);
  // Asks DNS, or joins the query already asking; waiter runs later, once, from an answer
  // delivered by the channel. name is lower case.
  void fetch(const std::string& name, uint16_t type, Waiter waiter);
  // Forgets every waiter (the channel is closing and will deliver nothing more).
  void cancelAll() { pending_.clear(); }

 private:
  using Finish = std::function<void(RecordSet)>;

  // One query for (name, type); finish gets the result after `hops` CNAMEs followed so far.
  void ask(const std::string& name, uint16_t type, int hops, Finish finish);
  void onAnswer(const std::string& name, uint16_t type, int hops, const Finish& finish, int status,
                std::span<const uint8_t> message);
  void follow(const std::string& name, const RecordReading& reading, uint16_t type, int hops, const Finish& finish);
  void complete(const std::string& key, RecordSet set);
  static std::string key(const std::string& name, uint16_t type) { return name + "/" + std::to_string(type); }

  DnsChannel& channel_;
  RecordCache& cache_;
  RecordReader reader_;
  const ResolverClock& clock_;
  std::unordered_map<std::string, std::vector<Waiter>> pending_;
};

}  // namespace lbmail::dns
