// The resolver the delivery engine uses: static routes, then one MxLookup per domain in
// flight, over a TTL cache and one c-ares channel; TXT, TLSA and address lookups on the same.
#include "lbmail/dns/mx_resolver.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <random>
#include <unordered_map>

#include "dns_channel.h"
#include "dns_answer.h"
#include "lbmail/dns/domain_name.h"
#include "lookup_answers.h"
#include "mx_lookup.h"
#include "record_cache.h"
#include "record_resolver.h"

namespace lbmail::dns {

class MxResolver::Impl {
 public:
  Impl(uv_loop_t* loop, ResolverConfig config, Clock clock, ResolverStats& stats)
      : config_(std::move(config)),
        clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
        stats_(stats),
        channel_(loop, config_, stats_),
        cache_(config_.max_cache_entries),
        records_(channel_, cache_, config_, clock_),
        rng_(std::random_device{}()) {
    for (const auto& [domain, addresses] : config_.static_routes) {
      std::optional<std::string> name = normalizeDomain(domain);
      routes_[name ? *name : domain] = addresses;
    }
    // Answers reach lookups inside the channel's delivery; the callers' callbacks, which may
    // close the resolver, wait until that batch is over.
    channel_.setAfterAnswers([this] { deliverFinished(); });
  }

  std::string start() {
    assert(!started_ && "start() once");
    std::string error = channel_.start();
    started_ = error.empty();
    return error;
  }

  void resolve(std::string_view text, Done done) {
    if (closing_) return;
    assert(started_ && "start() the resolver first");
    ++stats_.lookups;
    std::optional<std::string> domain = normalizeDomain(text);
    if (!domain) {
      MxAnswer answer;
      answer.status = LookupStatus::kPermanent;
      answer.reason = "invalid domain";
      answerNow(answer, done);
      return;
    }
    if (auto route = routes_.find(*domain); route != routes_.end()) {
      answerNow(staticAnswer(route->second), done);
      return;
    }
    if (auto running = lookups_.find(*domain); running != lookups_.end()) {
      ++stats_.coalesced;
      ++stats_.cache_misses;
      running->second->addWaiter(std::move(done));
      return;
    }
    startLookup(std::move(*domain), std::move(done));
  }

  template <typename Answer>
  void lookupRecords(std::string_view text, uint16_t type, std::function<void(const Answer&)> done,
                     Answer (*make)(const RecordSet&)) {
    std::optional<std::string> name = recordName<Answer>(text, done);
    if (!name) return;
    withRecords(*name, type, [done = std::move(done), make](const RecordSet& set, bool from_cache) {
      Answer answer = make(set);
      answer.from_cache = from_cache;
      done(answer);
    });
  }

  void lookupAddresses(std::string_view text, AddressDone done) {
    std::optional<std::string> name = recordName<AddressAnswer>(text, done);
    if (!name) return;
    auto pair = std::make_shared<AddressPair>();
    pair->done = std::move(done);
    for (size_t i = 0; i < 2; ++i) {
      withRecords(*name, i == 0 ? kTypeA : kTypeAaaa, [pair, i](const RecordSet& set, bool from_cache) {
        pair->sets[i] = set;
        pair->from_cache = pair->from_cache && from_cache;
        if (--pair->missing > 0) return;
        AddressAnswer answer = addressAnswer(pair->sets[0], pair->sets[1]);
        answer.from_cache = pair->from_cache;
        pair->done(answer);
      });
    }
  }

  void close(std::function<void()> done) {
    closing_ = true;
    finished_.clear();
    ready_.clear();
    records_.cancelAll();
    lookups_.clear();
    channel_.close(std::move(done));
  }

  size_t cacheSize() const { return cache_.size(); }

 private:
  static MxAnswer staticAnswer(const std::vector<SocketAddress>& addresses) {
    MxAnswer answer;
    answer.status = LookupStatus::kOk;
    answer.static_route = true;
    answer.targets.push_back(MxTarget{"", 0, addresses});
    return answer;
  }

  // The A and the AAAA result of one lookupAddresses, gathered until both are in.
  struct AddressPair {
    RecordSet sets[2];
    int missing = 2;
    bool from_cache = true;
    AddressDone done;
  };

  // The normalised name, or nullopt once done has had its answer: none after close(),
  // kPermanent "invalid domain" for a name DNS cannot carry.
  template <typename Answer>
  std::optional<std::string> recordName(std::string_view text, const std::function<void(const Answer&)>& done) {
    if (closing_) return std::nullopt;
    assert(started_ && "start() the resolver first");
    std::optional<std::string> name = normalizeDomain(text);
    if (!name) {
      Answer answer;
      answer.status = LookupStatus::kPermanent;
      answer.reason = "invalid domain";
      done(answer);
    }
    return name;
  }

  // The cached result at once, or DNS's once the channel's batch of answers is over (callers'
  // callbacks may close the resolver, which they must not do inside that batch).
  void withRecords(const std::string& name, uint16_t type, std::function<void(const RecordSet&, bool)> use) {
    if (const RecordSet* hit = records_.cached(name, type)) {
      use(*hit, true);
      return;
    }
    records_.fetch(name, type, [this, use = std::move(use)](const RecordSet& set) {
      ready_.push_back([use, set] { use(set, false); });
    });
  }

  void startLookup(std::string domain, Done done) {
    auto lookup = std::make_unique<MxLookup>(std::move(domain), records_, config_,
                                             [this](MxLookup& l) { finished_.push_back(l.domain()); });
    lookup->addWaiter(std::move(done));
    if (lookup->start()) {
      ++stats_.cache_hits;
      deliver(*lookup, true);
      return;
    }
    ++stats_.cache_misses;
    std::string key = lookup->domain();
    lookups_.emplace(std::move(key), std::move(lookup));
  }

  void deliverFinished() {
    while (!closing_ && !finished_.empty()) {
      auto it = lookups_.find(finished_.front());
      finished_.pop_front();
      if (it == lookups_.end()) continue;
      // Out of the table first: a callback that resolves the same domain starts afresh.
      std::unique_ptr<MxLookup> lookup = std::move(it->second);
      lookups_.erase(it);
      deliver(*lookup, false);
    }
    while (!closing_ && !ready_.empty()) {
      std::function<void()> answer = std::move(ready_.front());
      ready_.pop_front();
      answer();
    }
  }

  // Each caller gets its own order of equal preferences, so that load spreads over them.
  void deliver(MxLookup& lookup, bool from_cache) {
    std::vector<Done> waiters = std::move(lookup.waiters());
    for (Done& done : waiters) {
      if (closing_) return;
      MxAnswer answer = lookup.answer();
      answer.from_cache = from_cache;
      shuffleEqualPreferences(answer.targets);
      answerNow(answer, done);
    }
  }

  void answerNow(const MxAnswer& answer, const Done& done) {
    if (answer.status != LookupStatus::kOk) ++stats_.failures;
    done(answer);
  }

  void shuffleEqualPreferences(std::vector<MxTarget>& targets) {
    for (auto first = targets.begin(); first != targets.end();) {
      auto last = std::find_if(first, targets.end(),
                               [&](const MxTarget& t) { return t.preference != first->preference; });
      std::shuffle(first, last, rng_);
      first = last;
    }
  }

  ResolverConfig config_;
  Clock clock_;
  ResolverStats& stats_;
  DnsChannel channel_;
  RecordCache cache_;
  RecordResolver records_;
  std::mt19937 rng_;
  std::unordered_map<std::string, std::vector<SocketAddress>> routes_;
  std::unordered_map<std::string, std::unique_ptr<MxLookup>> lookups_;
  std::deque<std::string> finished_;  // domains whose lookup is complete, callers not yet called
  std::deque<std::function<void()>> ready_;  // TXT, TLSA and address answers not yet given
  bool started_ = false;
  bool closing_ = false;
};

MxResolver::MxResolver(uv_loop_t* loop, ResolverConfig config, Clock clock)
    : impl_(std::make_unique<Impl>(loop, std::move(config), std::move(clock), stats_)) {}

MxResolver::~MxResolver() = default;

std::string MxResolver::start() { return impl_->start(); }

void MxResolver::resolve(std::string_view domain, Done done) { impl_->resolve(domain, std::move(done)); }

void MxResolver::lookupTxt(std::string_view name, TxtDone done) {
  impl_->lookupRecords<TxtAnswer>(name, kTypeTxt, std::move(done), txtAnswer);
}

void MxResolver::lookupTlsa(std::string_view name, TlsaDone done) {
  impl_->lookupRecords<TlsaAnswer>(name, kTypeTlsa, std::move(done), tlsaAnswer);
}

void MxResolver::lookupAddresses(std::string_view host, AddressDone done) {
  impl_->lookupAddresses(host, std::move(done));
}

void MxResolver::close(std::function<void()> done) { impl_->close(std::move(done)); }

size_t MxResolver::cacheSize() const { return impl_->cacheSize(); }

}  // namespace lbmail::dns
