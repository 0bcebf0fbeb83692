// The gateway mode: links in, mail out, results back.
#include "gateway.h"

#include <algorithm>
#include <vector>

#include "lbmail/core/handle_closer.h"
#include "lbmail/core/log.h"
#include "lbmail/core/mailbox.h"
#include "answer_frames.h"
#include "material_spec.h"

namespace lbmail {
namespace {

using proto::RejectReason;

// Every assembly error is a property of the material and the request's fields, the same on
// every gateway and on every attempt: each one names a reason the initiator treats as final.
RejectReason rejectReasonOf(media::AssemblyError::Kind k) {
  switch (k) {
    case media::AssemblyError::Kind::kBadAddress: return RejectReason::kBadAddress;
    case media::AssemblyError::Kind::kMissingField: return RejectReason::kMissingField;
    case media::AssemblyError::Kind::kBadField:
    case media::AssemblyError::Kind::kTooLong: return RejectReason::kBadContent;
  }
  return RejectReason::kOther;
}

}  // namespace

Gateway::Gateway(uv_loop_t* loop, const GatewayConfig& config, MetricsRegistry& metrics)
    : ModeService(loop, config.service, metrics),
      config_(config),
      accepted_(metrics.counter("lbmail_gateway_requests_total", "SEND requests taken or refused.",
                                {{"result", "accepted"}})),
      rejected_(metrics.counter("lbmail_gateway_requests_total", "SEND requests taken or refused.",
                                {{"result", "rejected"}})),
      results_dropped_(metrics.counter("lbmail_gateway_results_dropped_total",
                                       "Deliveries finished after their link had closed, for an initiator "
                                       "that named no instance: no RESULT sent (the initiator resends).")),
      expired_(metrics.counter("lbmail_gateway_requests_expired_total",
                               "Requests refused before MAIL FROM: their deadline passed or their link closed.")),
      site_unavailable_(metrics.counter("lbmail_gateway_requests_site_unavailable_total",
                                        "Requests answered unsent: their site suspended this gateway's address, or "
                                        "today's warm-up cap was reached.")),
      probes_(metrics.counter("lbmail_gateway_probes_total", "PROBEs answered (initiators with policy prequal).")),
      delivery_metrics_(metrics) {
  metrics.gaugeCallback("lbmail_gateway_in_flight", "Requests taken and not yet answered.",
                        [this] { return static_cast<double>(in_flight_); });
  metrics.gaugeCallback("lbmail_gateway_answers_held", "Answers kept for initiators that reconnect.",
                        [this] { return static_cast<double>(held_.size()); });
  metrics.gaugeCallback("lbmail_gateway_links", "Authenticated initiator links open.",
                        [this] { return static_cast<double>(links_.size()); });
  metrics.gaugeCallback("lbmail_gateway_queue_depth", "Messages waiting in destination queues.",
                        [this] { return engine_ ? static_cast<double>(engine_->stats().queued) : 0.0; });
  metrics.gaugeCallback("lbmail_gateway_smtp_connections", "SMTP connections open.",
                        [this] { return engine_ ? static_cast<double>(engine_->stats().connections_open) : 0.0; });
  metrics.gaugeCallback("lbmail_gateway_smtp_destinations", "Destination pools (source, receiver address) held.",
                        [this] { return engine_ ? static_cast<double>(engine_->destinationPools()) : 0.0; });
  delivery_metrics_.watchEngine([this] { return engine_ ? &engine_->stats() : nullptr; });
  metrics.counterCallback("lbmail_gateway_dns_cache_hits_total", "MX lookups answered from the cache.",
                          [this] { return resolver_ ? resolver_->stats().cache_hits : 0; });
  metrics.counterCallback("lbmail_gateway_dns_cache_misses_total", "MX lookups that needed DNS.",
                          [this] { return resolver_ ? resolver_->stats().cache_misses : 0; });
  metrics.gaugeCallback("lbmail_gateway_media_files", "Media files mapped from the cache.",
                        [this] { return static_cast<double>(media_.size()); });
}

Gateway::~Gateway() = default;

int Gateway::onStart() {
  const GatewaySettings& g = config_.gateway;
  // The gateway's [node] name is its identity on the link: initiators name it in [[gateway]].
  auto security = proto::LinkSecurity::load(proto::Role::kGateway, g.credentials, config_.service.node_name);
  if (!security) {
    logError("gateway.key_failed", {{"error", security.error()}});
    return 1;
  }
  security_ = std::move(*security);
  if (!g.media_cache.empty()) {
    // Blocking by design: the loop serves nothing until the media are mapped and checked.
    auto cache = media::MediaCache::open(g.media_cache);
    if (!cache) {
      logError("gateway.media_failed", {{"error", cache.error()}});
      return 1;
    }
    media_ = std::move(*cache);
  }
  logInfo("gateway.media_loaded",
          {{"files", static_cast<uint64_t>(media_.size())}, {"bytes", media_.mappedBytes()}, {"cache", g.media_cache}});

  resolver_ = std::make_unique<dns::MxResolver>(loop_, config_.dns);
  if (std::string err = resolver_->start(); !err.empty()) {
    logError("gateway.dns_failed", {{"error", err}});
    return 1;
  }
  engine_ = std::make_unique<delivery::DeliveryEngine>(loop_, config_.smtp, *resolver_);
  shaping_ = std::make_unique<GatewayShaping>(loop_, config_.shaping, metrics_);
  std::string shaping_error = shaping_->start(
      [this](const proto::SitesFrame& f) {
        for (auto& [link, s] : links_) link->send(f);
      },
      [this] { return engine_->queuedPerSite(); });
  if (!shaping_error.empty()) {
    logError("gateway.shaping_failed", {{"error", shaping_error}});
    return 1;
  }
  engine_->setShaping(shaping_->table(), &shaping_->classifier(), [this] { shaping_->changed(); });
  if (config_.feedback.enabled) {
    feedback_ = std::make_unique<GatewayFeedback>(loop_, config_.feedback, metrics_);
    if (std::string err = feedback_->start(); !err.empty()) {
      logError("gateway.feedback_failed", {{"error", err}});
      return 1;
    }
  }
  if (!config_.dkim.keys.empty()) {
    signer_ = std::make_unique<MessageSigner>(loop_, config_.dkim, metrics_);
    for (const dkim::DkimKey& k : config_.dkim.keys) {
      logInfo("gateway.dkim_key", {{"domain", k.domain()},
                                   {"selector", k.selector()},
                                   {"algorithm", dkim::algorithmName(k.algorithm())},
                                   {"bits", static_cast<uint64_t>(k.bits())}});
    }
  }

  proto::LinkAcceptorConfig ac;
  ac.listen = g.listen;
  ac.link.node_name = config_.service.node_name;
  ac.link.heartbeat_interval = g.heartbeat_interval;
  ac.link.heartbeat_timeout = g.heartbeat_timeout;
  // It answers PROBEs (issue 22): initiators send them only to gateways that say so.
  ac.link.capabilities = proto::kCapabilityLoad;
  ac.allowed_initiators = g.allowed_initiators;
  ac.max_links = g.max_links;
  ac.max_handshakes = g.max_handshakes;
  ac.max_handshakes_per_address = g.max_handshakes_per_address;
  ac.link.auth_timeout = g.handshake_timeout;
  acceptor_ = std::make_unique<proto::LinkAcceptor>(loop_, ac, *security_, *this);
  if (int rc = acceptor_->start(); rc != 0) {
    logError("gateway.listen_failed", {{"addr", g.listen.toString()}, {"error", uv_strerror(rc)}});
    return 1;
  }
  uv_timer_init(loop_, &drain_timer_);
  drain_timer_.data = this;
  timer_open_ = true;
  logInfo("gateway.listening",
          {{"addr", acceptor_->boundAddress().toString()}, {"capacity", static_cast<uint64_t>(g.capacity)}});
  return 0;
}

void Gateway::onLinkUp(proto::LinkConnection& link) {
  LinkState& s = links_[&link];
  s.id = next_link_id_++;
  s.link = &link;
  links_by_id_[s.id] = &s;
  logInfo("gateway.link_up", {{"peer", link.peerName()}, {"addr", link.peerAddress().toString()}});
  link.send(proto::CatalogFrame{media_.catalog()});
  if (shaping_) shaping_->greet(link);
  if (feedback_) feedback_->linkUp(link);
  if (link.peerInstance() != 0) handOver(s);
  if (draining_) {
    link.send(proto::DrainFrame{});
    return;
  }
  // A new link takes its share: the others give theirs back as their requests finish.
  grantCredit(s);
}

void Gateway::onLinkFrame(proto::LinkConnection& link, const proto::Frame& frame) {
  auto it = links_.find(&link);
  if (it == links_.end()) return;
  LinkState& s = it->second;
  if (const auto* send = std::get_if<proto::SendFrame>(&frame)) {
    handleSend(s, *send);
  } else if (const auto* material = std::get_if<proto::MaterialFrame>(&frame)) {
    defineMaterial(s, *material);
  } else if (const auto* probe = std::get_if<proto::ProbeFrame>(&frame)) {
    answerProbe(s, *probe);
  } else if (feedback_) {
    feedback_->linkFrame(link, frame);
  }
  // CREDIT, LOAD, RESULT and the like are not for a gateway: ignored.
}

void Gateway::onLinkClosed(proto::LinkConnection& link, std::string_view reason) {
  auto it = links_.find(&link);
  if (it == links_.end()) return;
  // Deliveries under way go on and their answers are held for the instance; those not yet
  // started are withdrawn when their turn comes (the initiator sends them again).
  logInfo("gateway.link_closed", {{"peer", link.peerName()}, {"reason", reason}, {"in_flight", it->second.in_flight}});
  links_by_id_.erase(it->second.id);
  if (feedback_) feedback_->linkClosed(link);
  auto by_instance = links_by_instance_.find(link.peerInstance());
  if (by_instance != links_by_instance_.end() && by_instance->second == &it->second) {
    links_by_instance_.erase(by_instance);
  }
  links_.erase(it);
  grantEveryLink();
  maybeFinishDrain();
}

void Gateway::defineMaterial(LinkState& s, const proto::MaterialFrame& frame) {
  s.materials.erase(frame.material_id);
  s.failed_materials.erase(frame.material_id);
  auto material = media::Material::define(materialSpecFromFrame(frame, media_), media_);
  if (material) {
    s.materials[frame.material_id] = std::move(*material);
    return;
  }
  RejectReason reason = material.error().missing_media.empty() ? RejectReason::kOther : RejectReason::kMissingMedia;
  logWarn("gateway.material_refused",
          {{"peer", s.link->peerName()}, {"material", frame.material_id}, {"error", material.error().text}});
  s.failed_materials[frame.material_id] = {
      reason, "material " + std::to_string(frame.material_id) + ": " + material.error().text};
}

void Gateway::reject(LinkState& s, uint64_t request_id, RejectReason reason, std::string_view text) {
  rejected_.inc();
  s.link->send(proto::RejectFrame{request_id, reason, text, false, {}});
  grantEveryLink();
}

void Gateway::handleSend(LinkState& s, const proto::SendFrame& send) {
  Clock::time_point received = Clock::now();
  ++s.requests;
  if (draining_) return reject(s, send.request_id, RejectReason::kDraining, "gateway is draining");
  auto found = s.materials.find(send.material_id);
  if (found == s.materials.end()) {
    auto failed = s.failed_materials.find(send.material_id);
    if (failed != s.failed_materials.end()) {
      return reject(s, send.request_id, failed->second.first, failed->second.second);
    }
    return reject(s, send.request_id, RejectReason::kUnknownMaterial,
                  "no material " + std::to_string(send.material_id) + " on this link");
  }
  if (!send.sender.empty()) {
    if (const char* err = mailboxError(send.sender)) {
      return reject(s, send.request_id, RejectReason::kBadAddress, std::string("sender: ") + err);
    }
  }
  const std::shared_ptr<const media::Material>& material = found->second;
  bindFields(*material, send.fields, field_values_);
  media::MessageRequest request;
  // The Message-ID stays the same on every attempt: it derives from the message key.
  request.request_id = send.message_key != 0 ? send.message_key : send.request_id;
  request.recipient = send.recipient;
  request.fields = field_values_;
  request.date = std::time(nullptr);
  auto message = assembler_.assemble(material, request);
  if (!message) return reject(s, send.request_id, rejectReasonOf(message.error().kind), message.error().text);

  smtp::OutgoingMessage out;
  out.mail_from = send.sender;
  out.recipients.emplace_back(send.recipient);
  out.body.assign(message->slices().begin(), message->slices().end());
  out.owner = message->owner();
  out.no_leading_dots = true;  // a DKIM-Signature's folded lines start with a blank

  accepted_.inc();
  ++in_flight_;
  ++s.in_flight;
  auto q = std::make_shared<Request>();
  q->link_id = s.id;
  q->instance = s.link->peerInstance();
  q->request_id = send.request_id;
  q->received = received;
  q->domain = mailboxDomain(send.recipient);
  q->size = message->size();
  if (send.deadline_ms > 0) q->deadline = received + std::chrono::milliseconds(send.deadline_ms);
  auto keys = signer_ ? signer_->keysFor(material->fromDomain()) : std::span<const dkim::DkimKey* const>();
  if (keys.empty()) return deliver(q, std::move(out));
  // Signed off the loop; the request counts as in flight meanwhile, so credit stays honest.
  signer_->sign(*message, keys, [this, q, out = std::move(out)](auto headers) mutable {
    if (!headers) return failSigning(*q, headers.error());
    MessageSigner::prepend(out, std::move(*headers));
    deliver(q, std::move(out));
  });
}

void Gateway::deliver(const std::shared_ptr<Request>& q, smtp::OutgoingMessage&& out) {
  engine_->submit(
      q->domain, std::move(out),
      [this, q](delivery::DeliveryResult&& r) {
        delivery_metrics_.count(q->domain, r, q->size);
        finish(*q, std::move(r));
      },
      [this, q] { return mayStart(*q); });
}

void Gateway::failSigning(Request& q, const std::string& why) {
  logError("gateway.dkim_failed", {{"request", q.request_id}, {"error", why}});
  // Never sent unsigned: deferred, so the initiator tries again (here or elsewhere).
  delivery::DeliveryResult r;
  r.outcome = delivery::DeliveryOutcome::kDeferred;
  r.reason = "DKIM signing failed: " + why;
  finish(q, std::move(r));
}

bool Gateway::mayStart(Request& q) {
  auto it = links_by_id_.find(q.link_id);
  if (it == links_by_id_.end() || it->second->link->state() != proto::LinkConnection::State::kOpen) {
    q.withdrawn_why = "its link closed before MAIL FROM";
    return false;
  }
  if (q.deadline && Clock::now() >= *q.deadline) {
    q.withdrawn_why = "its deadline passed before MAIL FROM";
    return false;
  }
  // A delivery put back in the queue (its reused connection died before any reply) is asked
  // again: it counts as running once.
  if (!q.started) {
    q.started = true;
    held_.started(q.instance);
  }
  return true;
}

Gateway::LinkState* Gateway::answerLink(const Request& q) {
  auto open = [](LinkState* s) { return s && s->link->state() == proto::LinkConnection::State::kOpen; };
  auto own = links_by_id_.find(q.link_id);
  if (own != links_by_id_.end() && open(own->second)) return own->second;
  if (q.instance == 0) return nullptr;
  auto same = links_by_instance_.find(q.instance);
  return same != links_by_instance_.end() && open(same->second) ? same->second : nullptr;
}

void Gateway::finish(Request& q, delivery::DeliveryResult&& r) {
  --in_flight_;
  if (q.started) held_.finished(q.instance);
  auto own = links_by_id_.find(q.link_id);
  if (own != links_by_id_.end()) --own->second->in_flight;
  LinkState* to = answerLink(q);
  Clock::time_point now = Clock::now();
  if (r.withdrawn || r.site_unavailable) {
    // Never sent: another gateway (or a later try) may take it.
    proto::RejectFrame reject = unsentFrameOf(q.request_id, r, q.withdrawn_why);
    (r.site_unavailable ? site_unavailable_ : expired_).inc();
    if (q.instance != 0) held_.keep(q.instance, reject, now);
    if (to) to->link->send(reject);
  } else {
    ResultText text;
    proto::ResultFrame result = resultFrameOf(q.request_id, r, now - q.received, text);
    result.has_load = true;  // the link leaves it out for an initiator before issue 22
    result.queue = static_cast<uint32_t>(std::min<uint64_t>(queueDepth(), UINT32_MAX));
    latency_.add(result.timings.total_us);
    if (shaping_) shaping_->countReply(r.reply_class);
    // Held even when sent: the initiator may die before its ledger has the outcome.
    if (q.instance != 0) held_.keep(q.instance, result, now);
    if (to) {
      to->link->send(result);
    } else if (q.instance == 0) {
      results_dropped_.inc();  // nobody to give it to, now or later
    }
  }
  // The freed unit goes to whichever link is furthest below its share.
  grantEveryLink();
  maybeFinishDrain();
}

// The answers held for the new link's instance, then what is still under way for it, before
// its first CREDIT: the initiator waits for this before it re-sends anything.
void Gateway::handOver(LinkState& s) {
  uint64_t instance = s.link->peerInstance();
  // An older link of the same instance that still looks open is dead or superseded (a cut the
  // TCP stack has not noticed yet): closing it withdraws its queued requests, and the answers
  // of its running deliveries come here instead of into a dead socket.
  std::vector<proto::LinkConnection*> superseded;
  for (const auto& [link, other] : links_) {
    if (link != s.link && link->peerInstance() == instance) superseded.push_back(link);
  }
  for (proto::LinkConnection* old : superseded) old->abort("superseded by a new link of its instance");
  links_by_instance_[instance] = &s;
  proto::HandoverFrame h;
  h.held = held_.replay(instance, *s.link, Clock::now());
  h.running = held_.running(instance);
  s.link->send(h);
  logInfo("gateway.handover", {{"peer", s.link->peerName()}, {"held", h.held}, {"running", h.running}});
}

void Gateway::answerProbe(LinkState& s, const proto::ProbeFrame& probe) {
  probes_.inc();
  uint32_t in_flight = static_cast<uint32_t>(std::min<uint64_t>(in_flight_, UINT32_MAX));
  s.link->send(proto::ProbeReplyFrame{probe.token, in_flight, latency_.micros()});
}

uint64_t Gateway::queueDepth() const {
  // Messages waiting for a signer thread are queued too, as far as the initiator can tell.
  return engine_->stats().queued + (signer_ ? signer_->depth() : 0);
}

uint64_t Gateway::freeCapacity() const {
  uint64_t held = in_flight_;
  for (const auto& [link, s] : links_) held += link->credit();
  return held >= config_.gateway.capacity ? 0 : config_.gateway.capacity - held;
}

void Gateway::grantCredit(LinkState& s) {
  if (draining_ || closing_) return;
  uint64_t share = std::max<uint64_t>(1, config_.gateway.capacity / std::max<size_t>(1, links_.size()));
  uint64_t holds = s.link->credit() + s.in_flight;
  if (holds >= share) return;
  uint64_t want = std::min(share - holds, freeCapacity());
  // Grants go out in batches (an eighth of the share) rather than one CREDIT per RESULT.
  if (want == 0 || (want < share / 8 && holds > 0)) return;
  s.link->grantCredit(static_cast<uint32_t>(want));
  proto::LoadFrame load;
  load.queue_depth = queueDepth();
  load.in_flight = in_flight_;
  load.smtp_connections = engine_->stats().connections_open;
  s.link->send(load);
}

void Gateway::grantEveryLink() {
  // Neediest first, so a link that holds nothing is not starved by one refilling its share.
  auto holds = [](const auto& entry) { return entry.first->credit() + entry.second.in_flight; };
  auto neediest =
      std::min_element(links_.begin(), links_.end(), [&](const auto& a, const auto& b) { return holds(a) < holds(b); });
  if (neediest == links_.end()) return;
  grantCredit(neediest->second);
  for (auto& [link, s] : links_) {
    if (&s != &neediest->second) grantCredit(s);
  }
}

}  // namespace lbmail
