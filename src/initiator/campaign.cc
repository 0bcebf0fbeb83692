// The campaign loop: pages in, SENDs out within credit, outcomes recorded in batches.
#include "campaign.h"

#include <unistd.h>

#include <chrono>

#include "campaign_status.h"
#include "lbmail/core/log.h"

namespace lbmail {
namespace {

constexpr uint64_t kTickMs = 50;
constexpr uint64_t kDrainMs = 10000;  // a stop waits this long for answers in flight
// At start, the longest wait for the gateways' handover of a crashed run's answers.
constexpr uint64_t kHandoverMs = 5000;

}  // namespace

Campaign::Campaign(uv_loop_t* loop, const InitiatorConfig& config, MetricsRegistry& metrics,
                   std::function<void()> finished)
    : loop_(loop),
      config_(config),
      campaign_(config.campaign),
      finished_(std::move(finished)),
      policy_(retryPolicyOf(config)),
      counts_(config.gateways.size(), metrics),
      links_(loop, config, *this),
      dispatcher_(config.gateways.size(), config.selection, &links_),
      rates_(config.rate_limit),
      background_(loop),
      feed_(background_, config.campaign, links_.names(), [this](auto&& page) { arrived(std::move(page)); }),
      writer_(background_, config.campaign, [this] { pump(); }),
      feedback_rates_(config.feedback, links_.names(), metrics),
      feedback_(background_, links_, config.feedback, feedback_rates_),
      progress_(config.campaign.progress_interval, ::isatty(STDERR_FILENO) == 1),
      in_flight_(metrics.gauge("lbmail_initiator_in_flight", "requests sent and not yet answered")),
      handover_(config.gateways.size()),
      repeats_(metrics.counter("lbmail_initiator_repeats_total",
                               "Deliveries of a recipient another attempt had delivered too (in the accounting file "
                               "as 'repeat').")),
      late_answers_(metrics.counter("lbmail_initiator_late_answers_total",
                                    "RESULTs of attempts given up on, or handed over from an earlier run.")) {}

Campaign::~Campaign() = default;

int Campaign::start() {
  if (!links_.loadKeys() || !writer_.open(uv_now(loop_))) return 1;
  at_start_ = writer_.ledger().counts();
  logInfo("campaign.started", {{"campaign", campaign_.name},
                               {"recipients", at_start_.recipients},
                               {"delivered", at_start_.delivered},
                               {"bounced", at_start_.bounced},
                               {"failed", at_start_.failed},
                               {"deferred", at_start_.deferred},
                               {"gateways", static_cast<uint64_t>(links_.size())}});
  feedback_.open(writer_.ledger().handle(), writer_.ledger().number());
  feedback_rates_.start({at_start_.delivered, at_start_.bounced, at_start_.hard_bounces, at_start_.complaints});
  links_.connect(writer_.ledger().salt(), writer_.ledger().number());
  handover_.start(uv_now(loop_) + kHandoverMs);
  uv_timer_init(loop_, &tick_timer_);
  tick_timer_.data = this;
  timer_open_ = true;
  uv_timer_start(
      &tick_timer_, [](uv_timer_t* t) { static_cast<Campaign*>(t->data)->tick(); }, kTickMs, kTickMs);
  last_second_ms_ = uv_now(loop_);
  feed_.start(writer_.ledger(), at_start_.deferred, writer_.ledger().nextDue().value_or(0));
  // Nothing is read or sent before the handover (maybeEndHandover).
  return 0;
}

// ---- recipients in ----

void Campaign::arrived(std::vector<PendingRecipient>&& page) {
  for (PendingRecipient& p : page) ready_.push_back(std::move(p));
  pump();
  maybeFinished();
}

void Campaign::fetchFresh() {
  // While handed-over answers are being resolved a page read now could hold their recipients.
  if (!stopping_ && !handover_.waiting() && !resolving_) feed_.fetchFresh(queued());
}

void Campaign::claimRetries() {
  double now = unixNow();
  if (stopping_ || handover_.waiting() || resolving_ || !feed_.retriesDue(queued(), now)) return;
  // Deferrals recorded so far reach the database before the claim reads it.
  writer_.flush(uv_now(loop_));
  feed_.claimDue(now);
}

// ---- requests out ----

void Campaign::pump() {
  if (stopping_ || handover_.waiting()) return;
  uint64_t now = uv_now(loop_);
  // First those parked for a gateway that has credit again. They choose again: the choice was
  // made on what the table said then, and it may say otherwise now.
  for (size_t g = 0; g < links_.size(); ++g) {
    while (dispatcher_.hasParked(g) && links_.credit(g) > 0 && !writer_.backlogged()) {
      PendingRecipient p = dispatcher_.unpark(g);
      if (!dispatch(p, now)) held_.push_back(std::move(p));
    }
  }
  while (!ready_.empty() && !writer_.backlogged()) {
    // Out of the queue first: dispatch may reach code that puts others at its front.
    PendingRecipient p = std::move(ready_.front());
    ready_.pop_front();
    if (!dispatch(p, now)) held_.push_back(std::move(p));
  }
  fetchFresh();
}

// Sends p, parks it, finishes it (no material, or none of the gateways can build it), or
// returns false when it must wait (its domain's rate, or no gateway that could take it has credit).
bool Campaign::dispatch(PendingRecipient& p, uint64_t now) {
  // A late answer delivered it meanwhile: this copy must not go out.
  if (late_.settled(p.id)) return true;
  if (p.suppressed || feedback_.suppressed(p.id)) {
    recordSuppressed(std::move(p));
    return true;
  }
  if (p.material < 0) {
    failUnsent(std::move(p), p.error);
    return true;
  }
  GatewayDispatcher::Choice choice = dispatcher_.route(p, links_, now);
  switch (choice.route) {
    case GatewayDispatcher::Route::kSend: return sendTo(p, choice.gateway, now);
    case GatewayDispatcher::Route::kParked: return true;
    case GatewayDispatcher::Route::kHold: return false;
    case GatewayDispatcher::Route::kMediaMissing:
      failUnsent(std::move(p), "material " + campaign_.materials[static_cast<size_t>(p.material)].name +
                                   ": its media are missing on every gateway");
      return true;
  }
  return false;
}

// Puts p on gateway g's link; false (p untouched) when the domain's rate or the link says wait.
bool Campaign::sendTo(PendingRecipient& p, size_t g, uint64_t now) {
  if (!rates_.tryTake(p.domain_id, p.domain, now)) return false;  // first: the frame mints tokens
  std::vector<proto::MergeField> fields;
  proto::SendFrame send = links_.sendFrame(p, fields);
  // A request no link can carry (a field over 64 KiB, a frame over 1 MiB) never will.
  if (const char* problem = proto::requestProblem(send, proto::kDefaultMaxPayload)) {
    failUnsent(std::move(p), std::string("cannot be sent: ") + problem);
    return true;
  }
  if (!links_.send(g, send)) return false;
  if (p.first_at == 0) p.first_at = unixNow();
  dispatcher_.sent(p.domain_id, g, now);
  counts_.sent(g, p.domain_id);
  in_flight_.add(send.request_id, InFlightRequest{std::move(p), send.request_id, g, now});
  return true;
}

// ---- answers in ----

void Campaign::onLinkFailed(size_t g) {
  handover_.gone(g);
  maybeEndHandover(false);
}

void Campaign::onLinkDown(size_t g, std::string_view reason) {
  handover_.gone(g);
  maybeEndHandover(false);
  std::vector<uint64_t> orphans = in_flight_.idsOn(g);
  size_t count = orphans.size();
  links_.orphan(g, std::move(orphans), uv_now(loop_) + toMillis(campaign_.failover_grace));
  // Those parked for this gateway's credit choose again.
  while (dispatcher_.hasParked(g)) ready_.push_front(dispatcher_.unpark(g));
  dispatcher_.sites().forget(g);  // it reports its shaped sites again once back
  // Our own stop closes every link: that is no news.
  if (stopping_) return;
  logWarn("campaign.gateway_down",
          {{"gateway", links_.endpoint(g).name}, {"reason", reason}, {"in_flight", static_cast<uint64_t>(count)}});
}

void Campaign::onLinkFrame(size_t g, const proto::Frame& frame) {
  if (const auto* r = std::get_if<proto::ResultFrame>(&frame)) {
    onResult(g, *r);
  } else if (const auto* j = std::get_if<proto::RejectFrame>(&frame)) {
    onReject(g, *j);
  } else if (const auto* h = std::get_if<proto::HandoverFrame>(&frame)) {
    onHandover(g, *h);
  } else if (const auto* e = std::get_if<proto::FeedbackFrame>(&frame)) {
    feedback_.onFrame(g, *e);
  } else {
    dispatcher_.onGatewayFrame(g, frame, uv_now(loop_));  // SITES, LOAD, PROBE_REPLY
  }
  // CREDIT, LOAD and answers all may let more go out.
  pump();
}

void Campaign::onResult(size_t g, const proto::ResultFrame& r) {
  std::optional<InFlightRequest> f = in_flight_.take(g, r.request_id);
  if (!f) return onStrayResult(g, r);
  if (r.has_shaping) dispatcher_.learnSite(f->r.domain_id, r.site);
  dispatcher_.answered(f->r.domain_id, g, r, f->sent_ms, uv_now(loop_));
  double ms = static_cast<double>(uv_now(loop_) - f->sent_ms);
  if (r.timings.connect_us > 0) {
    dispatcher_.table().recordRtt(g, f->r.domain_id, static_cast<double>(r.timings.connect_us) / 1000.0);
  }
  OutcomeDecision d = decideResult(r, ms, historyOf(f->r, g), policy_, unixNow());
  counts_.result(g, stateNamed(r.outcome), d.tls, d.tls_verified);
  // From a RESULT, a reroute is a block (or policy) refusal, a requeue a throttle.
  if (d.kind == OutcomeDecision::Kind::kReroute || d.kind == OutcomeDecision::Kind::kRequeue) {
    bool block = d.kind == OutcomeDecision::Kind::kReroute;
    counts_.shaped(g, block ? ShapingEvent::kBlockReroute : ShapingEvent::kThrottleRequeue, links_.endpoint(g).name);
  }
  apply(std::move(*f), d, r.request_id);
}

void Campaign::onReject(size_t g, const proto::RejectFrame& r) {
  std::optional<InFlightRequest> f = in_flight_.take(g, r.request_id);
  if (!f) return;
  if (r.has_site) dispatcher_.learnSite(f->r.domain_id, r.site);
  dispatcher_.answered(f->r.domain_id, g, f->sent_ms, uv_now(loop_));
  counts_.rejected();
  if (r.reason == proto::RejectReason::kSiteUnavailable) {
    counts_.shaped(g, ShapingEvent::kSiteUnavailable, links_.endpoint(g).name);
    if (r.has_site) dispatcher_.sites().refused(g, r.site, uv_now(loop_));
  }
  OutcomeDecision d = decideReject(r, historyOf(f->r, g), policy_, unixNow());
  if (d.media_missing) links_.markMediaMissing(g, static_cast<size_t>(f->r.material), r.text);
  apply(std::move(*f), d);
}

// What the policy decided, for a request a gateway had.
void Campaign::apply(InFlightRequest&& f, const OutcomeDecision& d, uint64_t answered_by) {
  if (d.sample != OutcomeDecision::Sample::kNone) {
    dispatcher_.table().recordDelivery(f.gateway, f.r.domain_id, d.sample_ms, uv_now(loop_));
  }
  bool delivered = d.kind == OutcomeDecision::Kind::kFinal && d.state == RecipientState::kDelivered;
  if (late_.settled(f.r.id)) {
    // A late answer delivered it already: a second delivery is a repeat, anything else no news.
    if (delivered) recordRepeat(std::move(f.r), d, links_.endpoint(f.gateway).name, answered_by);
    return;
  }
  if (delivered) late_.delivered(f.r.id);
  if (d.kind == OutcomeDecision::Kind::kRequeue) {
    // Back to the front of the queue; another gateway is preferred.
    f.r.avoid_gateway = static_cast<int>(f.gateway);
    f.r.requeues = d.requeues;
    ready_.push_front(std::move(f.r));
    return;
  }
  if (d.kind == OutcomeDecision::Kind::kReroute) return reroute(std::move(f), d);
  record(std::move(f.r), d, links_.endpoint(f.gateway).name, answered_by);
}

// Refused by policy: at once to the front of the queue, for a gateway that has not refused it
// (the dispatcher leaves those out while another one is up).
void Campaign::reroute(InFlightRequest&& f, const OutcomeDecision& d) {
  f.r.refused_by.push_back(static_cast<uint16_t>(f.gateway));
  f.r.attempts = d.attempts;
  ready_.push_front(std::move(f.r));
}

void Campaign::failUnsent(PendingRecipient&& p, std::string reason) {
  OutcomeDecision d;
  d.attempts = p.attempts;
  d.reason = std::move(reason);
  record(std::move(p), d, "");
}

void Campaign::recordSuppressed(PendingRecipient&& p) {
  OutcomeDecision d;
  d.state = RecipientState::kSuppressed;
  d.attempts = p.attempts;
  d.reason = "suppressed";
  record(std::move(p), d, "");
}

void Campaign::record(PendingRecipient&& p, const OutcomeDecision& d, std::string gateway, uint64_t request_id) {
  StateChange c = stateChange(std::move(p), d, campaign_, std::move(gateway), unixNow());
  feedback_rates_.outcome(c.state, c.gateway, c.domain);
  c.request_id = request_id;
  if (c.state == RecipientState::kDeferred) feed_.deferred(c.next_at);
  counts_.changed(c.state);
  writer_.record(std::move(c), uv_now(loop_));
}

// ---- answers nobody waited for ----

void Campaign::onHandover(size_t g, const proto::HandoverFrame& h) {
  logInfo("campaign.handover",
          {{"gateway", links_.endpoint(g).name}, {"held", h.held}, {"running", h.running}});
  if (!handover_.waiting()) return;
  handover_.handedOver(g, h.running);
  maybeEndHandover(false);
}

void Campaign::maybeEndHandover(bool timed_out) {
  if (!handover_.waiting() || (!timed_out && !handover_.allSettled())) return;
  handover_.end();
  logInfo("campaign.handover_done", {{"answers", static_cast<uint64_t>(strays_.size())}, {"timed_out", timed_out}});
  // Their outcomes reach the database before the first page is read: what a gateway answered
  // is not read as fresh and sent again.
  resolveStrays([this] {
    fetchFresh();
    pump();
  });
}

void Campaign::onStrayResult(size_t g, const proto::ResultFrame& r) {
  late_answers_.inc();
  handover_.answered(g);
  maybeEndHandover(false);
  std::optional<InFlightRequest> f = late_.takeRetired(r.request_id);
  if (!f) {
    strays_.push_back(StrayResult::of(g, r));
    return;
  }
  // An attempt given up on: its own timing, never the current attempt's.
  double ms = static_cast<double>(uv_now(loop_) - f->sent_ms);
  OutcomeDecision d = decideResult(r, ms, historyOf(f->r, g), policy_, unixNow());
  if (d.kind != OutcomeDecision::Kind::kFinal || d.state != RecipientState::kDelivered) return;
  std::string gateway = links_.endpoint(g).name;
  if (late_.settled(f->r.id)) return recordRepeat(std::move(f->r), d, std::move(gateway), r.request_id);
  late_.settle(f->r.id);
  logInfo("campaign.late_delivery", {{"recipient", f->r.email}, {"gateway", gateway}, {"ms", ms}});
  record(std::move(f->r), d, std::move(gateway), r.request_id);
}

// Each stray answer against its recipient's row, read off the loop after what was recorded so
// far is written (the queue runs in order).
void Campaign::resolveStrays(std::function<void()> then) {
  resolving_ = true;
  auto batch = std::make_shared<std::vector<StrayResult>>(std::move(strays_));
  strays_.clear();
  auto rows = std::make_shared<std::vector<std::optional<LedgerRow>>>();
  writer_.flush(uv_now(loop_));
  background_.post(
      [this, batch, rows] {
        for (const StrayResult& s : *batch) {
          rows->push_back(writer_.ledger().row(GatewayLinks::recipientOf(s.request_id)));
        }
      },
      [this, batch, rows, then = std::move(then)] {
        std::vector<std::string> names = links_.names();
        for (size_t i = 0; i < batch->size(); ++i) {
          const StrayResult& s = (*batch)[i];
          uint64_t id = GatewayLinks::recipientOf(s.request_id);
          StrayVerdict v =
              judgeStray(s, std::move((*rows)[i]), late_.settled(id), policy_, campaign_, names, unixNow());
          std::string gateway = links_.endpoint(s.gateway).name;
          if (v.kind == StrayVerdict::Kind::kRepeat) {
            recordRepeat(std::move(v.recipient), v.decision, std::move(gateway), s.request_id);
          } else if (v.kind == StrayVerdict::Kind::kRecord) {
            if (v.decision.state == RecipientState::kDelivered) late_.settle(id);
            record(std::move(v.recipient), v.decision, std::move(gateway), s.request_id);
          }
        }
        writer_.flush(uv_now(loop_));
        resolving_ = false;
        then();
        maybeFinished();
      });
}

void Campaign::recordRepeat(PendingRecipient&& p, const OutcomeDecision& d, std::string gateway,
                            uint64_t request_id) {
  repeats_.inc();
  logWarn("campaign.repeat", {{"recipient", p.email}, {"gateway", gateway}});
  StateChange c = stateChange(std::move(p), d, campaign_, std::move(gateway), unixNow());
  c.request_id = request_id;
  c.repeat = true;
  writer_.record(std::move(c), uv_now(loop_));
}

// ---- time ----

void Campaign::tick() {
  uint64_t now = uv_now(loop_);
  writer_.tick(now);
  feedback_.tick(now);
  if (now - last_second_ms_ >= 1000) {
    double seconds = static_cast<double>(now - last_second_ms_) / 1000.0;
    counts_.endSecond(seconds);
    last_second_ms_ = now;
    expireSilent(now);
  }
  failOver(now);
  if (handover_.expired(now)) maybeEndHandover(true);
  if (!handover_.waiting() && !resolving_ && !strays_.empty()) resolveStrays([] {});
  if (stopping_) {
    if (in_flight_.empty() || now >= drain_deadline_ms_) finishStop();
    return;
  }
  // Held recipients get another chance as rates refill and credit returns, and those parked
  // for a gateway choose again on what the table says now.
  for (size_t n = held_.size(); n > 0; --n) {
    ready_.push_back(std::move(held_.front()));
    held_.pop_front();
  }
  for (size_t g = 0; g < links_.size(); ++g) {
    while (dispatcher_.hasParked(g)) ready_.push_back(dispatcher_.unpark(g));
  }
  pump();
  claimRetries();
  fetchFresh();
  progress_.update(snapshot(), now);
  maybeFinished();
}

// A request with no answer within result_timeout counts as deferred: the gateway may be stuck.
void Campaign::expireSilent(uint64_t now) {
  uint64_t limit = static_cast<uint64_t>(policy_.result_timeout_ms);
  if (now < limit) return;
  for (InFlightRequest& f : in_flight_.takeSentBefore(now - limit)) {
    dispatcher_.dropped(f.r.domain_id, f.gateway, f.sent_ms, now);
    late_.retire(f);  // its answer may still come, and is then taken as what it is
    OutcomeDecision d = decideTimeout(historyOf(f.r, f.gateway), policy_, unixNow());
    apply(std::move(f), d);
  }
}

// Requests in flight on a link that died get no RESULT: after the grace period they go to the
// other gateways (at least once: the dead link's gateway may have delivered some).
void Campaign::failOver(uint64_t now) {
  for (size_t g = 0; g < links_.size(); ++g) {
    std::vector<InFlightRequest> moved = in_flight_.takeOn(g, links_.takeDueOrphans(g, now));
    for (InFlightRequest& f : moved) {
      dispatcher_.dropped(f.r.domain_id, g, f.sent_ms, now);
      late_.retire(f);  // the gateway may have delivered it: it hands the answer over when back
      counts_.failedOver();
      OutcomeDecision d = decideRequeue(historyOf(f.r, f.gateway), policy_, unixNow());
      apply(std::move(f), d);
    }
    if (!moved.empty()) {
      logInfo("campaign.failover",
              {{"gateway", links_.endpoint(g).name}, {"requests", static_cast<uint64_t>(moved.size())}});
    }
  }
}

void Campaign::maybeFinished() {
  if (done_ || stopping_ || handover_.waiting() || resolving_ || !strays_.empty() || !feed_.exhausted() ||
      queued() > 0 || !in_flight_.empty()) {
    return;
  }
  done_ = true;
  writer_.flush(uv_now(loop_));
  background_.whenIdle([this] {
    // A write that failed is waiting again: not done until it is in the database.
    if (!writer_.idle()) {
      done_ = false;
      return;
    }
    progress_.finish(snapshot());
    logInfo("campaign.link_bytes", {{"sent", links_.bytesSent()}, {"received", links_.bytesReceived()}});
    if (!finished_called_ && campaign_.exit_when_done) {
      finished_called_ = true;
      finished_();
    }
  });
}

// ---- reporting ----

ProgressReporter::Snapshot Campaign::snapshot() const {
  return progressSnapshot(at_start_, counts_, feed_.waitingRetries(), in_flight_.size());
}

void Campaign::writeStatus(JsonWriter& w) {
  writeCampaignStatus(w, {campaign_.name, state(), at_start_, counts_, feed_.waitingRetries(), in_flight_.size(),
                          config_.selection.selector.policy, links_, dispatcher_, uv_now(loop_), &feedback_rates_});
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

// The timer, then the links, then the database queue: stop_done_ runs when all have finished.
void Campaign::finishStop() {
  if (!timer_open_) return;
  timer_open_ = false;
  uv_timer_stop(&tick_timer_);
  if (!in_flight_.empty()) {
    logWarn("campaign.stopped_in_flight", {{"requests", static_cast<uint64_t>(in_flight_.size())}});
  }
  writer_.flush(uv_now(loop_));
  closer_.close({asHandle(&tick_timer_)},
                [this] { links_.stop([this] { background_.whenIdle([this] { stop_done_.runAll(); }); }); });
}

}  // namespace lbmail
