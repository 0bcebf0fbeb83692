// From recipient domain to delivered message: MX resolution, destination choice, failover.
#include "lbmail/delivery/delivery_engine.h"

#include <algorithm>

#include "address_scope.h"
#include "delivery.h"
#include "destination_pool.h"
#include "lbmail/core/log.h"
#include "lbmail/dns/domain_name.h"
#include "lbmail/mta_sts/mta_sts_resolver.h"
#include "lbmail/shaping/reply_classifier.h"
#include "lbmail/shaping/shaping_table.h"
#include "site_gate.h"
#include "tls_policy_resolver.h"
#include "smtp_tls_context.h"

namespace lbmail::delivery {
namespace {

bool validEnvelope(const OutgoingMessage& m) {
  if (m.recipients.empty() || !smtp::safeSmtpPath(m.mail_from)) return false;
  return std::all_of(m.recipients.begin(), m.recipients.end(),
                     [](const std::string& r) { return !r.empty() && smtp::safeSmtpPath(r); });
}

}  // namespace

DeliveryEngine::DeliveryEngine(uv_loop_t* loop, DeliveryConfig config, dns::MxResolver& resolver)
    : loop_(loop),
      config_(std::move(config)),
      resolver_(resolver),
      tls_context_(std::make_unique<SmtpTlsContext>(config_.tls.ca_file)),
      own_classifier_(std::make_unique<shaping::ReplyClassifier>()),
      classifier_(own_classifier_.get()) {
  if (!tls_context_->error().empty()) logError("smtp.tls_context", {{"reason", tls_context_->error()}});
  if (config_.sources.empty()) sources_.emplace_back();
  for (const SocketAddress& s : config_.sources) sources_.emplace_back(s);
  startMtaSts();
}

void DeliveryEngine::startMtaSts() {
  const TlsConfig& tls = config_.tls;
  bool wanted = tls.policy == TlsPolicy::kMtaSts;
  for (const auto& [domain, policy] : tls.domain_policies) wanted = wanted || policy == TlsPolicy::kMtaSts;
  if (wanted) {
    mta_sts::MtaStsSettings settings;
    settings.ca_file = tls.ca_file;
    settings.port = tls.mta_sts_port;
    settings.fetch_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(tls.mta_sts_fetch_timeout);
    if (!config_.allow_private_destinations) {
      // The policy host is named by the recipient domain, like its MX hosts: the same rule.
      settings.address_refusal = [](const SocketAddress& a) {
        std::string_view range = nonPublicRange(a);
        return range.empty() ? std::string() : a.host() + " is " + std::string(range) + ": not fetched";
      };
    }
    auto resolver = std::make_unique<mta_sts::MtaStsResolver>(loop_, resolver_, settings);
    std::string error = resolver->start();
    if (error.empty()) {
      mta_sts_ = std::move(resolver);
      mta_sts_open_ = true;
    } else {
      // Without libcurl no policy can be fetched: RFC 8461 section 5 then delivers as to a
      // domain without one.
      logError("smtp.mta_sts_unavailable", {{"reason", error}});
    }
  }
  tls_policies_ = std::make_unique<TlsPolicyResolver>(config_.tls, config_.port, resolver_, mta_sts_.get());
}

DeliveryEngine::~DeliveryEngine() = default;

void DeliveryEngine::setShaping(shaping::ShapingTable* table, const shaping::ReplyClassifier* classifier,
                                std::function<void()> changed) {
  shaping_ = table;
  if (classifier) classifier_ = classifier;
  site_changed_ = std::move(changed);
}

void DeliveryEngine::submit(std::string_view domain, OutgoingMessage message, Done done, StartCheck may_start) {
  auto d = std::make_unique<Delivery>();
  d->id = next_id_++;
  // The resolver's spelling, so that per-domain limits and source choice see one name.
  d->domain = dns::normalizeDomain(domain).value_or("");
  d->message = std::move(message);
  d->done = std::move(done);
  d->may_start = std::move(may_start);
  d->submitted_ns = uv_hrtime();
  ++stats_.submitted;
  ++stats_.in_flight;
  if (closing_) {
    finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, "shutting down");
    return;
  }
  if (d->domain.empty() || !validEnvelope(d->message)) {
    finishWithoutSending(std::move(d), DeliveryOutcome::kBounced, "invalid envelope address");
    return;
  }
  uint64_t id = d->id;
  std::string name = d->domain;
  resolving_.emplace(id, std::move(d));
  // The resolver may outlive the engine; an answer after that finds the token expired.
  std::weak_ptr<bool> alive = alive_;
  resolver_.resolve(name, [this, id, alive](const dns::MxAnswer& answer) {
    if (alive.lock()) onResolved(id, answer);
  });
}

void DeliveryEngine::onResolved(uint64_t id, const dns::MxAnswer& answer) {
  auto it = resolving_.find(id);
  if (it == resolving_.end()) return;  // finished by close() meanwhile
  std::unique_ptr<Delivery> d = std::move(it->second);
  resolving_.erase(it);
  d->dns_ns = uv_hrtime() - d->submitted_ns;
  if (answer.status != dns::LookupStatus::kOk) {
    DeliveryOutcome outcome =
        answer.status == dns::LookupStatus::kPermanent ? DeliveryOutcome::kBounced : DeliveryOutcome::kDeferred;
    finishWithoutSending(std::move(d), outcome, "DNS: " + answer.reason);
    return;
  }
  std::string refused;
  for (size_t i = 0; i < answer.targets.size(); ++i) {
    const dns::MxTarget& t = answer.targets[i];
    for (const SocketAddress& a : t.addresses) {
      std::string why = refusal(answer, t, a);
      if (why.empty()) {
        d->candidates.push_back({t.host, a, i, nullptr});
      } else if (refused.empty()) {
        refused = std::move(why);
      }
    }
  }
  if (d->candidates.empty() && !refused.empty()) {
    // Every address the domain's DNS gives is one we refuse: the recipient domain points its
    // mail at our side of the network, which no retry changes (Exim's ignore_target_hosts
    // leaves such an address unrouteable; Postfix bounces an MX that loops back to itself).
    finishWithoutSending(std::move(d), DeliveryOutcome::kBounced, std::move(refused));
    return;
  }
  if (!admitToSite(d, answer)) return;
  std::string domain = d->domain;
  resolving_.emplace(id, std::move(d));
  std::weak_ptr<bool> alive = alive_;
  tls_policies_->resolve(domain, answer, [this, id, alive](std::vector<HostTls>&& hosts) {
    if (alive.lock()) onTlsResolved(id, std::move(hosts));
  });
}

void DeliveryEngine::onTlsResolved(uint64_t id, std::vector<HostTls>&& hosts) {
  auto it = resolving_.find(id);
  if (it == resolving_.end()) return;  // finished by close() meanwhile
  std::unique_ptr<Delivery> d = std::move(it->second);
  resolving_.erase(it);
  // One requirement per host, shared by its addresses.
  std::vector<std::shared_ptr<const TlsRequirement>> per_host(hosts.size());
  std::vector<DeliveryCandidate> kept;
  std::string refused;
  for (DeliveryCandidate& c : d->candidates) {
    HostTls& h = hosts[c.target];
    if (!h.requirement) {
      if (refused.empty()) refused = h.refusal;
      continue;
    }
    if (!per_host[c.target]) per_host[c.target] = std::make_shared<const TlsRequirement>(std::move(*h.requirement));
    c.tls = per_host[c.target];
    kept.push_back(std::move(c));
  }
  d->candidates = std::move(kept);
  if (d->candidates.empty() && !refused.empty()) {
    // A TLS policy that no host can meet is a deferral with its reason, never a downgrade.
    ++stats_.tls_policy_refusals;
    finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, std::move(refused));
    return;
  }
  tryNextCandidate(std::move(d));
}

// Why address, found through DNS for target, is not dialled; "" when it may be. Static routes
// are the operator's own choice and always may.
std::string DeliveryEngine::refusal(const dns::MxAnswer& answer, const dns::MxTarget& target,
                                    const SocketAddress& address) {
  if (answer.static_route || config_.allow_private_destinations) return "";
  std::string_view range = nonPublicRange(address);
  if (range.empty()) return "";
  ++stats_.destinations_refused;
  std::string host = target.host.empty() ? std::string("the domain") : "MX host " + target.host;
  std::string why = host + " has address " + address.host() + ", which is " + std::string(range) +
                    ": not dialled (smtp.allow_private_destinations = false)";
  logWarn("smtp.destination_refused", {{"host", target.host}, {"address", address.host()}, {"range", range}});
  return why;
}

// The site is the MX host set, or the provider those hosts belong to (MX rollup): every domain
// hosted there shares its limits, its throttles and its suspension.
std::shared_ptr<SiteGate> DeliveryEngine::gateFor(const std::string& source, const dns::MxAnswer& answer) {
  std::vector<std::string> hosts;
  for (const dns::MxTarget& t : answer.targets) {
    if (!t.host.empty()) hosts.push_back(t.host);
  }
  if (hosts.empty() && !answer.targets.empty() && !answer.targets.front().addresses.empty()) {
    hosts.push_back("route:" + answer.targets.front().addresses.front().toString());  // a static route
  }
  std::string site = classifier_->siteOf(hosts);
  std::string key = source + ">" + site;
  std::weak_ptr<SiteGate>& slot = gates_[key];
  std::shared_ptr<SiteGate> gate = slot.lock();
  if (!gate) {
    gate = std::make_shared<SiteGate>(shaping_, *classifier_, source, std::move(site), classifier_->providerOf(hosts));
    slot = gate;
  }
  return gate;
}

bool DeliveryEngine::admitToSite(std::unique_ptr<Delivery>& d, const dns::MxAnswer& answer) {
  const std::optional<SocketAddress>& source = sourceFor(d->domain);
  d->gate = gateFor(source ? source->host() : std::string(), answer);
  if (!shaping_) return true;
  shaping::ShapingTable::Admission a = shaping_->admit(d->gate->source(), d->gate->site());
  if (a.verdict == shaping::ShapingTable::Verdict::kGo) {
    d->reserved = true;
    return true;
  }
  ++stats_.site_refusals;
  DeliveryResult r;
  r.outcome = DeliveryOutcome::kDeferred;
  r.site_unavailable = true;
  r.reason = std::move(a.reason);
  r.recipients.resize(d->message.recipients.size());
  finish(std::move(d), std::move(r));
  // The initiators should stop sending this site here (a cap reached is news too).
  if (site_changed_) site_changed_();
  return false;
}

void DeliveryEngine::onSiteChanged(SiteGate& gate) {
  if (gate.suspended()) {
    // What waits for the site from this source would be refused too: it goes back now, never
    // sent, so the initiator can send it through another gateway.
    std::vector<std::unique_ptr<Delivery>> waiting;
    for (auto& [key, pool] : pools_) {
      if (&pool->gate() != &gate) continue;
      for (auto& d : pool->takeQueue()) waiting.push_back(std::move(d));
    }
    for (auto& d : waiting) {
      ++stats_.site_refusals;
      DeliveryResult r;
      r.outcome = DeliveryOutcome::kDeferred;
      r.site_unavailable = true;
      r.reason = "site " + gate.site() + " suspended for " + (gate.source().empty() ? "this gateway" : gate.source());
      r.recipients.resize(d->message.recipients.size());
      finish(std::move(d), std::move(r));
    }
  }
  if (site_changed_) site_changed_();
}

std::map<std::string, uint64_t> DeliveryEngine::queuedPerSite() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [key, pool] : pools_) {
    if (pool->queued() > 0) out[pool->gate().site()] += pool->queued();
  }
  return out;
}

void DeliveryEngine::tryNextCandidate(std::unique_ptr<Delivery> d) {
  uint64_t now = uv_hrtime();
  while (d->next_candidate < d->candidates.size()) {
    const DeliveryCandidate& c = d->candidates[d->next_candidate++];
    DestinationPool& pool = poolFor(c, *d);
    if (pool.backedOff(now)) {
      if (d->last_failure.empty()) d->last_failure = c.address.toString() + " is backed off";
      continue;
    }
    if (d->attempts > 0) ++stats_.failovers;
    ++d->attempts;
    d->current = &c;
    pool.enqueue(std::move(d));
    return;
  }
  std::string reason = d->last_failure.empty() ? "no MX host to try" : "no MX host took it; last: " + d->last_failure;
  finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, std::move(reason));
}

void DeliveryEngine::failOver(std::unique_ptr<Delivery> d, const std::string& reason) {
  d->last_failure = reason;
  if (closing_) {
    finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, "shutting down");
    return;
  }
  tryNextCandidate(std::move(d));
}

void DeliveryEngine::finishWithoutSending(std::unique_ptr<Delivery> d, DeliveryOutcome outcome, std::string reason) {
  DeliveryResult r;
  r.outcome = outcome;
  r.reason = std::move(reason);
  r.recipients.resize(d->message.recipients.size());
  for (RecipientResult& x : r.recipients) x.outcome = outcome;
  // No reply decided it: a bounce here is final for the recipient (no such domain, an invalid
  // address), a deferral is the network's or ours.
  r.reply_class = outcome == DeliveryOutcome::kBounced ? shaping::ReplyClass::kMailbox : shaping::ReplyClass::kProtocol;
  finish(std::move(d), std::move(r));
}

void DeliveryEngine::finish(std::unique_ptr<Delivery> d, DeliveryResult&& result) {
  uint64_t now = uv_hrtime();
  if (d->current) result.mx_host = d->current->mx_host;
  result.tls.policy = d->current ? d->current->tls->policy : config_.tls.policyFor(d->domain);
  result.attempts = d->attempts;
  if (d->gate) {
    result.site = d->gate->site();
    if (d->reserved) d->gate->released();
  }
  result.timings.dns = Duration(d->dns_ns);
  result.timings.queue_wait = Duration(d->queue_wait_ns);
  result.timings.total = Duration(now - d->submitted_ns);
  switch (result.outcome) {
    case DeliveryOutcome::kDelivered: ++stats_.delivered; break;
    case DeliveryOutcome::kDeferred: ++stats_.deferred; break;
    case DeliveryOutcome::kBounced: ++stats_.bounced; break;
  }
  --stats_.in_flight;
  Done done = std::move(d->done);
  d.reset();
  done(std::move(result));
}

DestinationPool& DeliveryEngine::poolFor(const DeliveryCandidate& candidate, const Delivery& d) {
  const std::string& domain = d.domain;
  const SocketAddress& destination = candidate.address;
  const std::optional<SocketAddress>& source = sourceFor(domain);
  // Connections differ by their site's shaping and by what their TLS must achieve as well as
  // by their ends.
  std::string key = d.gate->source() + ">" + d.gate->site() + ">" + destination.toString() + "|" + candidate.tls->key();
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;
  DestinationLimits limits = config_.limits;
  for (const auto& [name, l] : config_.domain_limits) {
    if (name == domain) limits = l;
  }
  DestinationPoolOwner& owner = *this;
  auto pool = std::make_unique<DestinationPool>(loop_, owner, source, destination, limits, *candidate.tls, d.gate);
  ++pools_open_;
  startSweeping();
  return *pools_.emplace(std::move(key), std::move(pool)).first->second;
}

void DeliveryEngine::startSweeping() {
  if (sweep_timer_open_) return;
  // Made with the first pool, so that an engine that never sent needs no close().
  uv_timer_init(loop_, &sweep_timer_);
  sweep_timer_.data = this;
  uint64_t ms = std::max<uint64_t>(toMillis(config_.pool_idle_timeout), 1);
  uv_timer_start(&sweep_timer_, onSweep, ms, ms);
  uv_unref(asHandle(&sweep_timer_));
  sweep_timer_open_ = true;
}

void DeliveryEngine::onSweep(uv_timer_t* timer) { static_cast<DeliveryEngine*>(timer->data)->retireIdlePools(); }

void DeliveryEngine::retireIdlePools() {
  uint64_t now = uv_hrtime();
  uint64_t idle_ns = static_cast<uint64_t>(config_.pool_idle_timeout.count());
  std::vector<std::pair<uint64_t, std::string>> idle;  // (idle since, key)
  for (const auto& [key, pool] : pools_) {
    if (uint64_t since = pool->idleSince(now)) idle.emplace_back(since, key);
  }
  std::sort(idle.begin(), idle.end());
  std::erase_if(gates_, [](const auto& entry) { return entry.second.expired(); });
  size_t beyond_cap = idle.size() > config_.max_idle_pools ? idle.size() - config_.max_idle_pools : 0;
  for (size_t i = 0; i < idle.size(); ++i) {
    if (i >= beyond_cap && now - idle[i].first < idle_ns) break;
    auto node = pools_.extract(idle[i].second);
    DestinationPool& pool = *retiring_.emplace_back(std::move(node.mapped()));
    ++stats_.pools_retired;
    pool.close();  // nothing queued, no connection: only its timer closes
  }
}

const std::optional<SocketAddress>& DeliveryEngine::sourceFor(const std::string& domain) const {
  if (sources_.size() == 1) return sources_.front();
  return sources_[std::hash<std::string>()(domain) % sources_.size()];
}

void DeliveryEngine::close(std::function<void()> done) {
  close_done_.add(std::move(done));
  if (closing_) {
    maybeClosed();  // closed already: a later caller is done at once
    return;
  }
  closing_ = true;
  // Messages waiting for DNS are answered now; the resolver's late answers find nothing.
  auto resolving = std::move(resolving_);
  resolving_.clear();
  for (auto& [id, d] : resolving) finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, "shutting down");
  for (auto& [key, pool] : pools_) pool->close();
  if (mta_sts_open_) {
    mta_sts_->close([this] {
      mta_sts_open_ = false;
      maybeClosed();
    });
  }
  if (sweep_timer_open_) {
    closer_.close({asHandle(&sweep_timer_)}, [this] {
      sweep_timer_open_ = false;
      maybeClosed();
    });
  }
  maybeClosed();
}

void DeliveryEngine::maybeClosed() {
  if (closing_ && pools_open_ == 0 && !sweep_timer_open_ && !mta_sts_open_) close_done_.runAll();
}

void DeliveryEngine::onPoolClosed(DestinationPool& pool) {
  --pools_open_;
  // A retired pool goes now: it calls this last, from its timer's close callback.
  auto it = std::find_if(retiring_.begin(), retiring_.end(), [&](const auto& p) { return p.get() == &pool; });
  if (it != retiring_.end()) retiring_.erase(it);
  maybeClosed();
}

std::vector<DestinationStatus> DeliveryEngine::destinations() const {
  std::vector<DestinationStatus> out;
  uint64_t now = uv_hrtime();
  for (const auto& [key, pool] : pools_) out.push_back(pool->status(now));
  return out;
}

}  // namespace lbmail::delivery
