// One domain's way to an MxAnswer: its MX records (or, without any, the domain itself as
// implicit MX), then A and AAAA for every MX host, each from the cache or from DNS.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lbmail/dns/mx_answer.h"
#include "lbmail/dns/resolver_config.h"
#include "record_resolver.h"

namespace lbmail::dns {

class MxLookup {
 public:
  // Runs when the answer is complete, unless that happened inside start().
  using Finished = std::function<void(MxLookup&)>;

  MxLookup(std::string domain, RecordResolver& records, const ResolverConfig& config, Finished finished);
  MxLookup(const MxLookup&) = delete;
  MxLookup& operator=(const MxLookup&) = delete;

  // True when the answer is complete already: everything it needed was in the cache.
  bool start();
  const std::string& domain() const { return domain_; }
  // Targets by ascending preference; equal preferences in the order DNS gave them.
  const MxAnswer& answer() const { return answer_; }
  // Lookups of the same domain made while this one runs share its answer.
  void addWaiter(MxDone done) { waiters_.push_back(std::move(done)); }
  std::vector<MxDone>& waiters() { return waiters_; }

 private:
  // What A and AAAA said about one host.
  struct Host {
    std::string name;
    uint16_t preference = 0;
    std::vector<SocketAddress> v4;
    std::vector<SocketAddress> v6;
    int negative = 0;       // answers saying no such name or no such record
    std::string temporary;  // the first temporary failure's reason
    bool insecure = false;  // an answer with addresses lacked the AD bit
  };

  void onMx(const RecordSet& mx);
  void useExchanges(const std::vector<MxRecord>& exchanges);
  void lookUpHosts();
  void lookUp(size_t host, uint16_t type);
  void onAddresses(size_t host, uint16_t type, const RecordSet& set);
  void compose();
  void finish(LookupStatus status, std::string reason);

  std::string domain_;
  RecordResolver& records_;
  const ResolverConfig& config_;
  Finished finished_;
  std::vector<Host> hosts_;
  size_t answers_missing_ = 0;
  bool starting_ = false;
  bool done_ = false;
  MxAnswer answer_;
  std::vector<MxDone> waiters_;
};

}  // namespace lbmail::dns
