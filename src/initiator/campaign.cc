// The campaign loop: pages in, SENDs out within credit, outcomes recorded in batches.
#include "campaign.h"

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

constexpr size_t kPage = 1024;           // recipients per database read
constexpr size_t kLowWater = 2 * kPage;  // read more when fewer than this wait to be sent
constexpr uint64_t kTickMs = 50;
constexpr uint64_t kDrainMs = 10000;  // a stop waits this long for answers in flight
constexpr int kRecipientIdBits = 40;
constexpr uint32_t kMaxRequeues = 8;
constexpr uint32_t kProbesPerGateway = 4;  // in flight for a domain with no measurement yet  // sent back without an
                                           // attempt (failover, capacity) before a deferral

double unixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

uint64_t millis(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

const char* const kOutcomeNames[] = {"delivered", "deferred", "bounced", "failed"};

proto::GatewayLinkConfig linkConfig(const InitiatorConfig& c, const GatewayEndpoint& g) {
  proto::GatewayLinkConfig l;
  l.gateway = g.address;
  l.link.node_name = c.service.node_name;
  return l;
}

}  // namespace

uint64_t Campaign::requestId(std::string_view campaign, uint64_t recipient_id) {
  uint64_t tag = XXH3_64bits(campaign.data(), campaign.size()) & ((1ull << (64 - kRecipientIdBits - 1)) - 1);
  return (tag << kRecipientIdBits) | (recipient_id & ((1ull << kRecipientIdBits) - 1));
}

Campaign::Campaign(uv_loop_t* loop, const InitiatorConfig& config, MetricsRegistry& metrics,
                   std::function<void()> finished)
    : loop_(loop),
      config_(config),
      campaign_(config.campaign),
      finished_(std::move(finished)),
      table_(config.gateways.size(), std::chrono::duration_cast<std::chrono::milliseconds>(config.selection.half_life)),
      selector_(table_, config.selection.selector),
      rates_(config.rate_limit),
      background_(loop),
      progress_(config.campaign.progress_interval, ::isatty(STDERR_FILENO) == 1),
      sent_total_(metrics.counter("lbmail_initiator_sent_total", "SEND requests put on gateway links")),
      failover_total_(
          metrics.counter("lbmail_initiator_failovers_total", "requests sent again elsewhere after their link died")),
      in_flight_gauge_(metrics.gauge("lbmail_initiator_in_flight", "requests sent and not yet answered")) {
  for (size_t i = 0; i < 4; ++i) {
    outcome_total_[i] = &metrics.counter("lbmail_initiator_outcomes_total", "outcomes recorded, deferrals included",
                                         {{"outcome", kOutcomeNames[i]}});
  }
  slots_.resize(config.gateways.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].endpoint = config.gateways[i];
    slots_[i].missing_media.assign(campaign_.materials.size(), false);
  }
  loads_.resize(slots_.size());
  waiting_.resize(slots_.size());
}

Campaign::~Campaign() = default;

int Campaign::start() {
  for (GatewaySlot& s : slots_) {
    auto key = proto::PreSharedKey::loadFile(s.endpoint.key_file);
    if (!key) {
      logError("campaign.key_failed", {{"gateway", s.endpoint.name}, {"error", key.error()}});
      return 1;
    }
    s.key = std::make_unique<proto::PreSharedKey>(std::move(*key));
  }
  // Opening is the one blocking database step, before the loop runs.
  auto ledger = CampaignLedger::open(campaign_.database, campaign_.name);
  if (!ledger) {
    logError("campaign.database_failed", {{"error", ledger.error()}});
    return 1;
  }
  ledger_ = std::move(*ledger);
  at_start_ = ledger_->counts();
  deferred_waiting_ = at_start_.deferred;
  next_due_ = ledger_->nextDue().value_or(0);
  if (!campaign_.accounting_file.empty()) {
    auto log = AccountingLog::open(campaign_.accounting_file);
    if (!log) {
      logError("campaign.accounting_failed", {{"error", log.error()}});
      return 1;
    }
    accounting_ = std::move(*log);
  }
  logInfo("campaign.started", {{"campaign", campaign_.name},
                               {"recipients", at_start_.recipients},
                               {"delivered", at_start_.delivered},
                               {"bounced", at_start_.bounced},
                               {"failed", at_start_.failed},
                               {"deferred", at_start_.deferred},
                               {"gateways", static_cast<uint64_t>(slots_.size())}});
  for (GatewaySlot& s : slots_) {
    s.link = std::make_unique<proto::GatewayLink>(loop_, linkConfig(config_, s.endpoint), *s.key,
                                                  static_cast<proto::GatewayLink::Handler&>(*this));
    s.link->start();
  }
  uv_timer_init(loop_, &tick_timer_);
  tick_timer_.data = this;
  timer_open_ = true;
  uv_timer_start(&tick_timer_, onTick, kTickMs, kTickMs);
  last_flush_ms_ = last_second_ms_ = uv_now(loop_);
  fetchMore();
  return 0;
}

// ---- recipients in ----

Campaign::Pending Campaign::toPending(StoredRecipient&& s) const {
  Pending p;
  p.id = s.id;
  p.email = std::move(s.email);
  p.domain = std::move(s.domain);
  p.attempts = s.attempts;
  p.first_at = s.first_at;
  for (size_t g = 0; g < slots_.size(); ++g) {
    if (!s.last_gateway.empty() && slots_[g].endpoint.name == s.last_gateway) p.avoid_gateway = static_cast<int>(g);
  }
  auto attributes = RecipientAttributes::parse(s.attributes);
  if (!attributes) {
    p.error = attributes.error();
    return p;
  }
  p.material = campaign_.targeting.materialFor({p.email, p.domain, *attributes});
  if (p.material < 0) {
    p.error = "no targeting rule matched and the campaign has no default_material";
    return p;
  }
  p.values.reserve(campaign_.merge_fields.size());
  for (const auto& [field, attribute] : campaign_.merge_fields) {
    const std::string* v = attributes->find(attribute);
    p.values.push_back(v ? std::optional<std::string>(*v) : std::nullopt);
  }
  return p;
}

void Campaign::fetchMore() {
  if (fetching_ || fresh_done_ || stopping_ || queued() >= kLowWater) return;
  fetching_ = true;
  auto rows = std::make_shared<std::vector<StoredRecipient>>();
  auto pending = std::make_shared<std::vector<Pending>>();
  auto ok = std::make_shared<bool>(false);
  uint64_t after = last_fresh_id_;
  background_.post(
      [this, rows, pending, ok, after] {
        *ok = ledger_->fetchFresh(after, kPage, *rows);
        pending->reserve(rows->size());
        for (StoredRecipient& r : *rows) pending->push_back(toPending(std::move(r)));
      },
      [this, rows, pending, ok] {
        fetching_ = false;
        if (!*ok) {
          // Tried again on the next tick; the error is the database's (locked, I/O).
          logWarn("campaign.read_failed", {{"error", ledger_->lastError()}});
          return;
        }
        if (rows->size() < kPage) fresh_done_ = true;
        if (!rows->empty()) last_fresh_id_ = rows->back().id;
        for (Pending& p : *pending) ready_.push_back(std::move(p));
        pump();
        maybeFinished();
      });
}

void Campaign::claimRetries() {
  if (claiming_ || stopping_ || deferred_waiting_ == 0 || unixNow() < next_due_ || queued() >= kLowWater) {
    return;
  }
  // Deferrals recorded so far reach the database before the claim reads it.
  flushWrites();
  claiming_ = true;
  auto rows = std::make_shared<std::vector<StoredRecipient>>();
  auto pending = std::make_shared<std::vector<Pending>>();
  auto ok = std::make_shared<bool>(false);
  auto next = std::make_shared<std::optional<double>>();
  background_.post(
      [this, rows, pending, ok, next, now = unixNow()] {
        *ok = ledger_->claimDue(now, kPage, *rows);
        *next = ledger_->nextDue();
        for (StoredRecipient& r : *rows) pending->push_back(toPending(std::move(r)));
      },
      [this, rows, pending, ok, next] {
        claiming_ = false;
        if (!*ok) {
          logWarn("campaign.read_failed", {{"error", ledger_->lastError()}});
          return;
        }
        deferred_waiting_ -= std::min<uint64_t>(deferred_waiting_, pending->size());
        // Deferrals recorded while the claim ran are not in next: the earlier of both.
        next_due_ = std::min(next->has_value() ? **next : unixNow() + 1, due_during_claim_);
        due_during_claim_ = std::numeric_limits<double>::infinity();
        for (Pending& p : *pending) ready_.push_back(std::move(p));
        pump();
      });
}

// ---- requests out ----

void Campaign::pump() {
  if (stopping_) return;
  uint64_t now = uv_now(loop_);
  // Outcomes not yet committed plus requests in flight are what a crash would send twice:
  // sending waits while the database is two batches behind, which bounds that window.
  auto backlogged = [&] { return writes_.size() + writing_ >= 2 * campaign_.batch_size; };
  // First those waiting for a gateway that has credit again. They choose again: the choice
  // was made on what the table said then, and it may say otherwise now.
  for (size_t g = 0; g < slots_.size(); ++g) {
    std::deque<Pending>& queue = waiting_[g];
    while (!queue.empty() && slots_[g].link->credit() > 0 && !backlogged()) {
      Pending p = takeWaiting(g);
      if (!dispatch(p, now)) held_.push_back(std::move(p));
    }
  }
  while (!ready_.empty() && !backlogged()) {
    Pending& p = ready_.front();
    if (!dispatch(p, now)) held_.push_back(std::move(p));
    ready_.pop_front();
  }
  fetchMore();
}

// Sends p, finishes it (no material, or none of the gateways can build it), or returns false
// when it must wait (its domain's rate, or no gateway that could take it has credit).
bool Campaign::dispatch(Pending& p, uint64_t now) {
  if (p.material < 0) {
    finish(std::move(p), RecipientState::kFailed, -1, 0, "", p.error, 0);
    return true;
  }
  p.domain_id = table_.domainId(p.domain);
  size_t m = static_cast<size_t>(p.material);
  bool any_has_media = false;
  bool other_candidate = false;
  for (size_t g = 0; g < slots_.size(); ++g) {
    const GatewaySlot& s = slots_[g];
    any_has_media |= !s.missing_media[m];
    loads_[g] = {s.link->isUp() && !s.missing_media[m], s.link->credit(), 0, 0};
    if (static_cast<int>(g) != p.avoid_gateway && loads_[g].up && loads_[g].credit > 0) other_candidate = true;
  }
  if (!any_has_media) {
    finish(std::move(p), RecipientState::kFailed, -1, 0, "",
           "material " + campaign_.materials[m].name + ": its media are missing on every gateway", 0);
    return true;
  }
  if (p.avoid_gateway >= 0 && other_candidate) loads_[static_cast<size_t>(p.avoid_gateway)].up = false;
  // A domain nothing is known about yet gets a few probes per gateway, not a blind wave: the
  // first answers come back in milliseconds and then the rest go where they arrive soonest.
  if (config_.selection.selector.policy == SelectionPolicy::kEwma &&
      domainInFlight(p.domain_id) >= kProbesPerGateway * slots_.size() && !known(p.domain_id)) {
    return false;
  }
  fillDestinationLoad(p.domain_id);
  int wait_for = -1;
  int chosen = selector_.choose(p.domain_id, loads_, now, &wait_for);
  if (chosen < 0 && wait_for >= 0) {
    // Sooner through that gateway's next credit than through another one now.
    ++cell(p.domain_id, static_cast<size_t>(wait_for)).parked;
    waiting_[static_cast<size_t>(wait_for)].push_back(std::move(p));
    ++waiting_count_;
    return true;
  }
  if (chosen < 0) return false;
  return sendTo(p, static_cast<size_t>(chosen), now);
}

// The load that matters for a message is its destination's on that gateway, not the gateway's
// as a whole: a gateway queues per destination. In flight is counted as sent; the rate is
// measured per second, and until then one connection's worth (1 / expected time) is assumed,
// so that a cell is not flooded before its rate is known.
void Campaign::fillDestinationLoad(uint32_t domain) {
  for (size_t g = 0; g < slots_.size(); ++g) {
    const Cell& c = cell(domain, g);
    loads_[g].in_flight = c.in_flight;
    double rate = c.rate;
    if (rate <= 0) {
      double expected = table_.expected(g, domain).ms;
      rate = expected > 0 ? 1000.0 / expected : 0;
    }
    loads_[g].completions_per_second = rate;
  }
}

Campaign::Cell& Campaign::cell(uint32_t domain, size_t g) {
  size_t n = slots_.size();
  if (cells_.size() < (static_cast<size_t>(domain) + 1) * n) cells_.resize((static_cast<size_t>(domain) + 1) * n);
  return cells_[domain * n + g];
}

uint64_t Campaign::domainInFlight(uint32_t domain) {
  uint64_t n = 0;
  for (size_t g = 0; g < slots_.size(); ++g) n += cell(domain, g).in_flight;
  return n;
}

Campaign::Pending Campaign::takeWaiting(size_t g) {
  Pending p = std::move(waiting_[g].front());
  waiting_[g].pop_front();
  --waiting_count_;
  --cell(p.domain_id, g).parked;
  return p;
}

// Whether some gateway has a measurement (a sample or an RTT prior) for the domain.
bool Campaign::known(uint32_t domain) const {
  for (size_t g = 0; g < slots_.size(); ++g) {
    auto source = table_.expected(g, domain).source;
    if (source == DeliveryTimeTable::Source::kSamples || source == DeliveryTimeTable::Source::kRttPrior) return true;
  }
  return false;
}

// Puts p on gateway g's link; false (p untouched) when the domain's rate or the link says wait.
bool Campaign::sendTo(Pending& p, size_t g, uint64_t now) {
  GatewaySlot& slot = slots_[g];
  std::vector<proto::MergeField> fields;
  fields.reserve(p.values.size());
  for (size_t i = 0; i < p.values.size(); ++i) {
    if (p.values[i]) fields.push_back({campaign_.merge_fields[i].first, *p.values[i]});
  }
  proto::SendFrame send;
  send.request_id = requestId(campaign_.name, p.id);
  send.sender = campaign_.sender;
  send.recipient = p.email;
  send.material_id = static_cast<uint64_t>(p.material) + 1;
  send.fields = proto::MergeFields(fields);
  // A request no link can carry (a field over 64 KiB, a frame over 1 MiB) never will.
  if (const char* problem = proto::LinkConnection::requestProblem(send, proto::kDefaultMaxPayload)) {
    finish(std::move(p), RecipientState::kFailed, -1, 0, "", std::string("cannot be sent: ") + problem, 0);
    return true;
  }
  if (!rates_.tryTake(p.domain_id, p.domain, now)) return false;
  if (!slot.link->sendRequest(send)) return false;
  if (p.first_at == 0) p.first_at = unixNow();
  ++slot.in_flight;
  ++cell(p.domain_id, g).in_flight;
  ++slot.sent;
  ++sent_;
  sent_total_.inc();
  if (p.domain_id >= domain_sent_.size()) domain_sent_.resize(p.domain_id + 1);
  ++domain_sent_[p.domain_id];
  in_flight_.insert_or_assign(send.request_id, InFlight{std::move(p), g, now});
  in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
  return true;
}

void Campaign::sendMaterials(GatewaySlot& slot) {
  for (size_t i = 0; i < campaign_.materials.size(); ++i) {
    const CampaignMaterial& m = campaign_.materials[i];
    std::string field_names;
    for (const auto& [field, attribute] : campaign_.merge_fields) {
      if (!field_names.empty()) field_names += ',';
      field_names += field;
    }
    proto::MaterialFrame f;
    f.material_id = i + 1;
    using Kind = proto::MaterialPartKind;
    f.parts.push_back({Kind::kFrom, m.from});
    if (!m.reply_to.empty()) f.parts.push_back({Kind::kReplyTo, m.reply_to});
    if (!m.subject.empty()) f.parts.push_back({Kind::kSubject, m.subject});
    if (!m.text.empty()) f.parts.push_back({Kind::kText, m.text});
    if (!m.html.empty()) f.parts.push_back({Kind::kHtml, m.html});
    if (!m.list_unsubscribe.empty()) f.parts.push_back({Kind::kListUnsubscribe, m.list_unsubscribe});
    if (!field_names.empty()) f.parts.push_back({Kind::kFields, field_names});
    for (const CampaignMaterial::Media& media : m.media) {
      proto::MediaRef ref;
      std::copy(media.hash.begin(), media.hash.end(), ref.hash.begin());
      ref.disposition = media.is_inline ? proto::MediaDisposition::kInline : proto::MediaDisposition::kAttachment;
      ref.name = media.name;
      f.media.push_back(ref);
    }
    slot.link->send(f);
  }
}

// ---- answers in ----

size_t Campaign::slotOf(const proto::GatewayLink& link) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].link.get() == &link) return i;
  }
  return 0;
}

void Campaign::onGatewayUp(proto::GatewayLink& link) {
  GatewaySlot& slot = slots_[slotOf(link)];
  // A gateway that comes back may have a new media cache: ask it again.
  slot.missing_media.assign(campaign_.materials.size(), false);
  sendMaterials(slot);
  logInfo("campaign.gateway_up", {{"gateway", slot.endpoint.name}, {"peer", link.gatewayName()}});
  pump();
}

void Campaign::onGatewayDown(proto::GatewayLink& link, std::string_view reason) {
  size_t g = slotOf(link);
  GatewaySlot& slot = slots_[g];
  size_t orphans = 0;
  for (const auto& [id, f] : in_flight_) {
    if (f.gateway == g) {
      slot.orphans.push_back(id);
      ++orphans;
    }
  }
  slot.orphans_due_ms = uv_now(loop_) + millis(campaign_.failover_grace);
  // Those waiting for this gateway's credit choose again.
  while (!waiting_[g].empty()) ready_.push_front(takeWaiting(g));
  // Our own stop closes every link: that is no news.
  if (stopping_) return;
  logWarn("campaign.gateway_down",
          {{"gateway", slot.endpoint.name}, {"reason", reason}, {"in_flight", static_cast<uint64_t>(orphans)}});
}

void Campaign::onGatewayFrame(proto::GatewayLink& link, const proto::Frame& frame) {
  size_t g = slotOf(link);
  if (const auto* r = std::get_if<proto::ResultFrame>(&frame)) {
    onResult(g, *r);
  } else if (const auto* j = std::get_if<proto::RejectFrame>(&frame)) {
    onReject(g, *j);
  }
  // CREDIT, LOAD and answers all may let more go out.
  pump();
}

std::optional<Campaign::InFlight> Campaign::takeInFlight(size_t g, uint64_t request_id) {
  auto it = in_flight_.find(request_id);
  // An answer from a link the request no longer counts on (failed over, timed out) is late.
  if (it == in_flight_.end() || it->second.gateway != g) return std::nullopt;
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
  --slots_[g].in_flight;
  Cell& c = cell(f.r.domain_id, g);
  --c.in_flight;
  ++c.done;
  return f;
}

void Campaign::onResult(size_t g, const proto::ResultFrame& r) {
  std::optional<InFlight> taken = takeInFlight(g, r.request_id);
  if (!taken) return;
  InFlight& f = *taken;
  GatewaySlot& slot = slots_[g];
  ++results_in_second_;
  uint64_t now = uv_now(loop_);
  double ms = static_cast<double>(now - f.sent_ms);
  uint32_t d = f.r.domain_id;
  if (r.timings.connect_us > 0) table_.recordRtt(g, d, static_cast<double>(r.timings.connect_us) / 1000.0);
  double slow = std::max(ms, static_cast<double>(millis(config_.selection.slow_sample)));
  std::string enhanced(r.enhanced_code);
  std::string reply(r.reply);
  switch (r.outcome) {
    case proto::Outcome::kDelivered:
      table_.recordDelivery(g, d, ms, now);
      ++slot.delivered;
      finish(std::move(f.r), RecipientState::kDelivered, static_cast<int>(g), r.smtp_code, enhanced, "", ms);
      break;
    case proto::Outcome::kBounced:
      // A refusal is still an answer in ms: the route was fast, the address is bad.
      table_.recordDelivery(g, d, ms, now);
      ++slot.bounced;
      finish(std::move(f.r), RecipientState::kBounced, static_cast<int>(g), r.smtp_code, enhanced, reply, ms);
      break;
    case proto::Outcome::kDeferred:
      table_.recordDelivery(g, d, slow, now);
      ++slot.deferred;
      defer(std::move(f.r), static_cast<int>(g), r.smtp_code, enhanced, reply, ms);
      break;
    case proto::Outcome::kFailed:
      table_.recordDelivery(g, d, slow, now);
      ++slot.failed;
      finish(std::move(f.r), RecipientState::kFailed, static_cast<int>(g), r.smtp_code, enhanced, reply, ms);
      break;
  }
}

void Campaign::onReject(size_t g, const proto::RejectFrame& r) {
  std::optional<InFlight> taken = takeInFlight(g, r.request_id);
  if (!taken) return;
  InFlight& f = *taken;
  ++rejects_;
  using Reason = proto::RejectReason;
  switch (r.reason) {
    case Reason::kMissingMedia:
      if (!slots_[g].missing_media[static_cast<size_t>(f.r.material)]) {
        logWarn("campaign.media_missing", {{"gateway", slots_[g].endpoint.name},
                                           {"material", campaign_.materials[static_cast<size_t>(f.r.material)].name},
                                           {"text", r.text}});
      }
      slots_[g].missing_media[static_cast<size_t>(f.r.material)] = true;
      requeue(std::move(f));
      break;
    case Reason::kOverCapacity:
    case Reason::kDraining:
    case Reason::kUnknownMaterial: requeue(std::move(f)); break;
    case Reason::kBadAddress:
    case Reason::kMissingField:
      finish(std::move(f.r), RecipientState::kFailed, static_cast<int>(g), 0, "", "rejected by gateway: " + std::string(r.text), 0);
      break;
    default:  // kExpired, kOther, and codes newer than this initiator
      defer(std::move(f.r), static_cast<int>(g), 0, "", "rejected by gateway: " + std::string(r.text), 0);
      break;
  }
}

// Back to the front of the queue, not counted as an attempt: the gateway never tried it. A
// recipient sent back over and over (one gateway that keeps refusing it) waits for a retry
// instead, so that nothing spins.
void Campaign::requeue(InFlight&& f) {
  f.r.avoid_gateway = static_cast<int>(f.gateway);
  if (++f.r.requeues > kMaxRequeues) {
    f.r.requeues = 0;
    return defer(std::move(f.r), static_cast<int>(f.gateway), 0, "", "sent back by the gateways too often", 0, false);
  }
  ready_.push_front(std::move(f.r));
}

// ---- outcomes ----

void Campaign::defer(Pending&& p, int gateway, int code, std::string enhanced, std::string reason, double ms,
                     bool attempted) {
  uint32_t attempts = p.attempts + (attempted ? 1 : 0);
  double now = unixNow();
  double age = now - (p.first_at > 0 ? p.first_at : now);
  if (attempts >= campaign_.max_attempts || age >= std::chrono::duration<double>(campaign_.max_age).count()) {
    std::string why = "gave up after " + std::to_string(attempts) + " attempts over " +
                      std::to_string(static_cast<int64_t>(age)) + " s: " + reason;
    finish(std::move(p), RecipientState::kFailed, gateway, code, std::move(enhanced), std::move(why), ms);
    return;
  }
  const auto& schedule = campaign_.retry_schedule;
  Duration wait = schedule[std::min<size_t>(attempts > 0 ? attempts - 1 : 0, schedule.size() - 1)];
  StateChange c;
  c.recipient_id = p.id;
  c.state = RecipientState::kDeferred;
  c.attempts = attempts;
  c.material = campaign_.materials[static_cast<size_t>(p.material)].name;
  c.gateway = gateway >= 0 ? slots_[static_cast<size_t>(gateway)].endpoint.name : "";
  c.smtp_code = code;
  c.enhanced_code = std::move(enhanced);
  c.reason = std::move(reason);
  c.delivery_ms = ms;
  c.first_at = p.first_at;
  c.next_at = now + std::chrono::duration<double>(wait).count();
  c.at = now;
  c.email = std::move(p.email);
  c.domain = std::move(p.domain);
  next_due_ = deferred_waiting_ == 0 ? c.next_at : std::min(next_due_, c.next_at);
  if (claiming_) due_during_claim_ = std::min(due_during_claim_, c.next_at);
  ++deferred_waiting_;
  ++deferrals_;
  outcome_total_[1]->inc();
  record(std::move(c));
}

void Campaign::finish(Pending&& p, RecipientState state, int gateway, int code, std::string enhanced, std::string reason,
                      double ms) {
  StateChange c;
  c.recipient_id = p.id;
  c.state = state;
  c.attempts = p.attempts + (gateway >= 0 ? 1 : 0);
  c.material = p.material >= 0 ? campaign_.materials[static_cast<size_t>(p.material)].name : "";
  c.gateway = gateway >= 0 ? slots_[static_cast<size_t>(gateway)].endpoint.name : "";
  c.smtp_code = code;
  c.enhanced_code = std::move(enhanced);
  c.reason = std::move(reason);
  c.delivery_ms = ms;
  c.first_at = p.first_at;
  c.at = unixNow();
  c.email = std::move(p.email);
  c.domain = std::move(p.domain);
  if (c.state == RecipientState::kDelivered)
    ++delivered_, outcome_total_[0]->inc();
  else if (c.state == RecipientState::kBounced)
    ++bounced_, outcome_total_[2]->inc();
  else
    ++failed_, outcome_total_[3]->inc();
  record(std::move(c));
}

void Campaign::record(StateChange&& c) {
  writes_.push_back(std::move(c));
  if (writes_.size() >= campaign_.batch_size) flushWrites();
}

void Campaign::flushWrites() {
  if (writes_.empty()) return;
  auto batch = std::make_shared<std::vector<StateChange>>(std::move(writes_));
  writes_.clear();
  auto ok = std::make_shared<bool>(false);
  last_flush_ms_ = uv_now(loop_);
  writing_ += batch->size();
  background_.post(
      [this, batch, ok] {
        // The accounting lines first: after a crash between the two, a line is repeated when
        // the outcome comes again, never missing.
        if (accounting_ && !accounting_->append(*batch)) {
          logError("campaign.accounting_write_failed", {{"file", campaign_.accounting_file}});
        }
        *ok = ledger_->write(*batch);
      },
      [this, batch, ok] {
        writing_ -= batch->size();
        if (*ok) return pump();
        // Kept and written with the next batch: an outcome is never dropped.
        logError("campaign.write_failed", {{"error", ledger_->lastError()}, {"changes", batch->size()}});
        writes_.insert(writes_.begin(), std::make_move_iterator(batch->begin()), std::make_move_iterator(batch->end()));
      });
}

// ---- time ----

void Campaign::onTick(uv_timer_t* t) { static_cast<Campaign*>(t->data)->tick(); }

void Campaign::tick() {
  uint64_t now = uv_now(loop_);
  if (now - last_flush_ms_ >= millis(campaign_.batch_interval)) flushWrites();
  if (now - last_second_ms_ >= 1000) {
    double seconds = static_cast<double>(now - last_second_ms_) / 1000.0;
    rate_ = rate_ == 0 ? results_in_second_ / seconds : 0.7 * rate_ + 0.3 * (results_in_second_ / seconds);
    results_in_second_ = 0;
    for (Cell& c : cells_) {
      double r = c.done / seconds;
      c.rate = c.rate <= 0 ? r : 0.5 * c.rate + 0.5 * r;
      c.done = 0;
    }
    last_second_ms_ = now;
    expireSilent(now);
  }
  failOver(now);
  if (stopping_) {
    if (in_flight_.empty() || now >= drain_deadline_ms_) finishStop();
    return;
  }
  // Held recipients get another chance as rates refill and credit returns, and those waiting
  // for a gateway choose again on what the table says now.
  for (size_t n = held_.size(); n > 0; --n) {
    ready_.push_back(std::move(held_.front()));
    held_.pop_front();
  }
  for (size_t g = 0; g < waiting_.size(); ++g) {
    while (!waiting_[g].empty()) ready_.push_back(takeWaiting(g));
  }
  pump();
  claimRetries();
  fetchMore();
  progress_.update(snapshot(), now);
  maybeFinished();
}

// A request with no answer within result_timeout counts as deferred: the gateway may be stuck.
void Campaign::expireSilent(uint64_t now) {
  uint64_t limit = millis(campaign_.result_timeout);
  std::vector<uint64_t> expired;
  for (const auto& [id, f] : in_flight_) {
    if (now - f.sent_ms >= limit) expired.push_back(id);
  }
  for (uint64_t id : expired) {
    auto it = in_flight_.find(id);
    InFlight f = std::move(it->second);
    in_flight_.erase(it);
    --slots_[f.gateway].in_flight;
    --cell(f.r.domain_id, f.gateway).in_flight;
    table_.recordDelivery(f.gateway, f.r.domain_id, static_cast<double>(limit), now);
    defer(std::move(f.r), static_cast<int>(f.gateway), 0, "", "no answer within result_timeout",
          static_cast<double>(limit));
  }
}

// Requests in flight on a link that died get no RESULT: after the grace period they go to the
// other gateways (at least once: the dead link's gateway may have delivered some).
void Campaign::failOver(uint64_t now) {
  for (size_t g = 0; g < slots_.size(); ++g) {
    GatewaySlot& s = slots_[g];
    if (s.orphans.empty() || now < s.orphans_due_ms) continue;
    size_t moved = 0;
    for (uint64_t id : s.orphans) {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end() || it->second.gateway != g) continue;
      InFlight f = std::move(it->second);
      in_flight_.erase(it);
      --s.in_flight;
      --cell(f.r.domain_id, g).in_flight;
      ++failovers_;
      failover_total_.inc();
      ++moved;
      requeue(std::move(f));
    }
    s.orphans.clear();
    if (moved) logInfo("campaign.failover", {{"gateway", s.endpoint.name}, {"requests", static_cast<uint64_t>(moved)}});
  }
  in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
}

void Campaign::maybeFinished() {
  if (done_ || stopping_ || !fresh_done_ || fetching_ || claiming_ || queued() > 0 || !in_flight_.empty() ||
      deferred_waiting_ > 0) {
    return;
  }
  done_ = true;
  flushWrites();
  background_.whenIdle([this] {
    // A write that failed is back in writes_: not done until it is in the database.
    if (!writes_.empty() || writing_ > 0) {
      done_ = false;
      return;
    }
    progress_.finish(snapshot());
    uint64_t link_sent = 0, link_received = 0;
    for (const GatewaySlot& g : slots_) {
      link_sent += g.link->bytesSent();
      link_received += g.link->bytesReceived();
    }
    logInfo("campaign.link_bytes", {{"sent", link_sent}, {"received", link_received}});
    if (!finished_called_ && campaign_.exit_when_done) {
      finished_called_ = true;
      finished_();
    }
  });
}

// ---- reporting ----

ProgressReporter::Snapshot Campaign::snapshot() const {
  ProgressReporter::Snapshot s;
  s.total = at_start_.recipients;
  s.sent = sent_;
  s.delivered = at_start_.delivered + delivered_;
  s.bounced = at_start_.bounced + bounced_;
  s.failed = at_start_.failed + failed_;
  s.deferred = deferred_waiting_;
  s.in_flight = in_flight_.size();
  s.rate = rate_;
  return s;
}

void Campaign::writeStatus(JsonWriter& w) {
  ProgressReporter::Snapshot s = snapshot();
  w.key("campaign").beginObject();
  w.field("name", campaign_.name);
  w.field("state", done_ ? "done" : stopping_ ? "stopping" : "running");
  w.field("total", s.total);
  w.field("sent", s.sent);
  w.field("delivered", s.delivered);
  w.field("deferred", s.deferred);
  w.field("bounced", s.bounced);
  w.field("failed", s.failed);
  w.field("in_flight", s.in_flight);
  w.field("deferrals", deferrals_);
  w.field("failovers", failovers_);
  w.field("rejects", rejects_);
  w.field("rate_per_second", s.rate);
  std::optional<double> eta = ProgressReporter::etaSeconds(s);
  w.key("eta_seconds");
  if (eta)
    w.value(*eta);
  else
    w.null();
  w.field("policy", selectionPolicyName(config_.selection.selector.policy));
  w.field("decisions", selector_.decisions());
  w.field("explorations", selector_.explorations());
  w.field("switches", selector_.switches());
  w.endObject();

  w.key("gateways").beginArray();
  for (const GatewaySlot& g : slots_) {
    w.beginObject();
    w.field("name", g.endpoint.name);
    w.field("address", g.endpoint.address.toString());
    w.field("up", g.link && g.link->isUp());
    w.field("credit", g.link ? g.link->credit() : 0);
    w.field("in_flight", g.in_flight);
    w.field("rtt_ms", g.link ? static_cast<double>(g.link->rttMicros()) / 1000.0 : 0.0);
    w.field("link_bytes_sent", g.link ? g.link->bytesSent() : 0);
    w.field("link_bytes_received", g.link ? g.link->bytesReceived() : 0);
    w.field("sent", g.sent);
    w.field("delivered", g.delivered);
    w.field("deferred", g.deferred);
    w.field("bounced", g.bounced);
    w.field("failed", g.failed);
    w.endObject();
  }
  w.endArray();

  // Gateways × the busiest domains: what selection sees now.
  constexpr size_t kTopDomains = 20;
  std::vector<uint32_t> top(domain_sent_.size());
  for (uint32_t i = 0; i < top.size(); ++i) top[i] = i;
  size_t n = std::min(kTopDomains, top.size());
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(n), top.end(),
                    [&](uint32_t a, uint32_t b) { return domain_sent_[a] > domain_sent_[b]; });
  static const char* const kSources[] = {"none", "gateway_average", "rtt_prior", "samples"};
  w.key("table").beginObject();
  w.key("gateways").beginArray();
  for (const GatewaySlot& g : slots_) w.value(g.endpoint.name);
  w.endArray();
  w.key("domains").beginArray();
  for (size_t i = 0; i < n; ++i) {
    uint32_t d = top[i];
    w.beginObject();
    w.field("domain", table_.domainName(d));
    w.field("sent", domain_sent_[d]);
    w.field("current", selector_.currentGateway(d));
    w.key("expected_ms").beginArray();
    for (size_t g = 0; g < slots_.size(); ++g) w.value(table_.expected(g, d).ms);
    w.endArray();
    w.key("source").beginArray();
    for (size_t g = 0; g < slots_.size(); ++g) w.value(kSources[static_cast<int>(table_.expected(g, d).source)]);
    w.endArray();
    w.endObject();
  }
  w.endArray();
  w.endObject();
}

// ---- stop ----

void Campaign::stop(std::function<void()> done) {
  stop_done_.add(std::move(done));
  if (stopping_) return;
  stopping_ = true;
  // Not started (start failed before the links existed): nothing to close.
  if (!timer_open_) return stop_done_.runAll();
  drain_deadline_ms_ = uv_now(loop_) + kDrainMs;
  if (in_flight_.empty()) finishStop();
}

void Campaign::finishStop() {
  if (!timer_open_) return;
  timer_open_ = false;
  uv_timer_stop(&tick_timer_);
  if (!in_flight_.empty()) {
    logWarn("campaign.stopped_in_flight", {{"requests", static_cast<uint64_t>(in_flight_.size())}});
  }
  flushWrites();
  // The links, the database queue and the timer: stop_done_ runs when all have finished.
  auto remaining = std::make_shared<size_t>(slots_.size() + 2);
  auto one_done = [this, remaining] {
    if (--*remaining == 0) stop_done_.runAll();
  };
  for (GatewaySlot& s : slots_) s.link->stop(one_done);
  background_.whenIdle(one_done);
  timer_closed_ = one_done;
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_),
           [](uv_handle_t* h) { static_cast<Campaign*>(h->data)->timer_closed_(); });
}

}  // namespace lbmail
