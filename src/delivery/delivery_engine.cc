// From recipient domain to delivered message: MX resolution, destination choice, failover.
#include "lbmail/delivery/delivery_engine.h"

#include <algorithm>

#include "delivery.h"
#include "lbmail/dns/domain_name.h"
#include "destination_pool.h"

namespace lbmail::delivery {
namespace {

bool validEnvelope(const OutgoingMessage& m) {
  if (m.recipients.empty() || !smtp::safeSmtpPath(m.mail_from)) return false;
  return std::all_of(m.recipients.begin(), m.recipients.end(),
                     [](const std::string& r) { return !r.empty() && smtp::safeSmtpPath(r); });
}

}  // namespace

DeliveryEngine::DeliveryEngine(uv_loop_t* loop, DeliveryConfig config, dns::MxResolver& resolver)
    : loop_(loop), config_(std::move(config)), resolver_(resolver) {
  if (config_.sources.empty()) sources_.emplace_back();
  for (const SocketAddress& s : config_.sources) sources_.emplace_back(s);
}

DeliveryEngine::~DeliveryEngine() = default;

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
  for (const dns::MxTarget& t : answer.targets) {
    for (const SocketAddress& a : t.addresses) d->candidates.push_back({t.host, a});
  }
  tryNextCandidate(std::move(d));
}

void DeliveryEngine::tryNextCandidate(std::unique_ptr<Delivery> d) {
  uint64_t now = uv_hrtime();
  while (d->next_candidate < d->candidates.size()) {
    const DeliveryCandidate& c = d->candidates[d->next_candidate++];
    DestinationPool& pool = poolFor(c.address, d->domain);
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
  finish(std::move(d), std::move(r));
}

void DeliveryEngine::finish(std::unique_ptr<Delivery> d, DeliveryResult&& result) {
  uint64_t now = uv_hrtime();
  if (d->current) result.mx_host = d->current->mx_host;
  result.attempts = d->attempts;
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

DestinationPool& DeliveryEngine::poolFor(const SocketAddress& destination, const std::string& domain) {
  const std::optional<SocketAddress>& source = sourceFor(domain);
  std::string key = (source ? source->host() : std::string()) + ">" + destination.toString();
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;
  DestinationLimits limits = config_.limits;
  for (const auto& [name, l] : config_.domain_limits) {
    if (name == domain) limits = l;
  }
  DestinationPoolOwner& owner = *this;
  auto pool = std::make_unique<DestinationPool>(loop_, owner, source, destination, limits);
  ++pools_open_;
  return *pools_.emplace(std::move(key), std::move(pool)).first->second;
}

const std::optional<SocketAddress>& DeliveryEngine::sourceFor(const std::string& domain) const {
  if (sources_.size() == 1) return sources_.front();
  return sources_[std::hash<std::string>()(domain) % sources_.size()];
}

void DeliveryEngine::close(std::function<void()> done) {
  close_done_.add(std::move(done));
  if (closing_) {
    if (pools_open_ == 0) close_done_.runAll();  // closed already: a later caller is done at once
    return;
  }
  closing_ = true;
  // Messages waiting for DNS are answered now; the resolver's late answers find nothing.
  auto resolving = std::move(resolving_);
  resolving_.clear();
  for (auto& [id, d] : resolving) finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, "shutting down");
  for (auto& [key, pool] : pools_) pool->close();
  if (pools_open_ == 0) close_done_.runAll();
}

void DeliveryEngine::onPoolClosed() {
  if (--pools_open_ == 0 && closing_) close_done_.runAll();
}

std::vector<DestinationStatus> DeliveryEngine::destinations() const {
  std::vector<DestinationStatus> out;
  uint64_t now = uv_hrtime();
  for (const auto& [key, pool] : pools_) out.push_back(pool->status(now));
  return out;
}

}  // namespace lbmail::delivery
