// Connection reuse, limits and back-off for one destination.
#include "destination_pool.h"

#include <algorithm>
#include <cassert>

#include "lbmail/core/log.h"

namespace lbmail::delivery {
namespace {

bool noReplyAtAll(const DeliveryResult& r) {
  if (r.reply.code != 0) return false;
  return std::all_of(r.recipients.begin(), r.recipients.end(), [](const RecipientResult& x) { return x.reply.code == 0; });
}

}  // namespace

DestinationPool::DestinationPool(uv_loop_t* loop, DestinationPoolOwner& owner, std::optional<SocketAddress> source,
                                 SocketAddress destination, DestinationLimits limits, TlsRequirement tls,
                                 std::shared_ptr<SiteGate> gate)
    : loop_(loop),
      owner_(owner),
      source_(std::move(source)),
      destination_(destination),
      limits_(limits),
      tls_(std::move(tls)),
      gate_(std::move(gate)),
      // A second's worth of new connections may come at once; messages are smoothed to a tenth.
      new_connections_(limits.max_new_connections_per_second, limits.max_new_connections_per_second),
      messages_(limits.max_messages_per_second, limits.max_messages_per_second / 10) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

DestinationPool::~DestinationPool() { assert(slots_.empty() && !timer_open_); }

void DestinationPool::enqueue(std::unique_ptr<Delivery> d) {
  d->enqueued_ns = last_active_ns_ = uv_hrtime();
  queue_.push_back(std::move(d));
  ++owner_.counters().queued;
  pump();
}

void DestinationPool::pump() {
  if (closing_) return;
  uint64_t now = uv_hrtime();
  while (!queue_.empty() && !idle_.empty()) {
    SmtpClientConnection* c = idle_.back();
    idle_.pop_back();
    // One that timed out idle and said QUIT, or failed, is on its way out.
    if (c->state() != SmtpClientConnection::State::kReady) continue;
    Slot& slot = *slotOf(*c);
    // As many queued messages as the connection takes in one write (pipelined transactions),
    // within the message rate and the per-connection limit, but never one that a connection
    // already on its way would start sooner: queued behind a slow transaction, a message
    // would wait for that receiver's every reply and could miss its deadline.
    c->cork();
    bool rate_limited = false;
    uint64_t wait = 0;
    do {
      if (queue_.front()->may_start && !queue_.front()->may_start()) {
        std::unique_ptr<Delivery> gone = std::move(queue_.front());
        queue_.pop_front();
        withdraw(std::move(gone));
        continue;
      }
      if (!gate_->tryStart(now, &wait)) {
        rate_limited = true;
        break;
      }
      if (!messages_.tryTake(now)) {
        wait = messages_.waitNanos(now);
        rate_limited = true;
        break;
      }
      std::unique_ptr<Delivery> d = std::move(queue_.front());
      queue_.pop_front();
      start(slot, std::move(d));
    } while (queue_.size() > connecting_ && c->acceptsMore() &&
             c->transactions() < limits_.max_messages_per_connection);
    if (c->state() == SmtpClientConnection::State::kReady) idle_.push_back(c);  // sent nothing
    c->uncork();
    if (rate_limited) {
      waitFor(wait);
      return;  // no point opening connections for messages that may not go yet
    }
  }
  // One new connection per message that has none coming, within the limits.
  while (queue_.size() > connecting_ && slots_.size() < limits_.max_connections && !backedOff(now)) {
    if (!gate_->mayConnect(limits_.max_connections)) {
      gate_->wait(this);  // a connection of the site's other pools closes first
      return;
    }
    if (!new_connections_.tryTake(now)) {
      waitFor(new_connections_.waitNanos(now));
      return;
    }
    openConnection();
  }
}

void DestinationPool::openConnection() {
  auto slot = std::make_unique<Slot>();
  SmtpClientConnection::Handler& handler = *this;
  slot->connection = std::make_unique<SmtpClientConnection>(loop_, owner_.clientSettings(), handler);
  SmtpClientConnection& c = *slot->connection;
  c.setTls(owner_.tlsContext(), tls_, startTlsMode(), tls_session_);
  slots_.push_back(std::move(slot));
  gate_->connected();
  ++connecting_;
  ++owner_.counters().connections_opened;
  ++owner_.counters().connections_open;
  c.connect(source_, destination_);
}

void DestinationPool::start(Slot& slot, std::unique_ptr<Delivery> d) {
  --owner_.counters().queued;
  d->queue_wait_ns = uv_hrtime() - d->enqueued_ns;
  if (d->reserved) {
    d->reserved = false;
    gate_->started();
  }
  if (slot.connection->transactions() > 0) ++owner_.counters().transactions_reused;
  owner_.counters().bytes_sent += d->message.bodySize();
  slot.active.push_back(std::move(d));
  Slot* s = &slot;
  slot.connection->send(slot.active.back()->message,
                        [this, s](DeliveryResult&& result) { onTransactionDone(*s, std::move(result)); });
}

// The submitter no longer wants it (its deadline passed, its requester went away): answered
// without a transaction, so no server ever sees it.
void DestinationPool::withdraw(std::unique_ptr<Delivery> d) {
  --owner_.counters().queued;
  DeliveryResult r;
  r.outcome = DeliveryOutcome::kDeferred;
  r.reason = "withdrawn before MAIL FROM";
  r.withdrawn = true;
  r.recipients.resize(d->message.recipients.size());
  owner_.finish(std::move(d), std::move(r));
}

void DestinationPool::onTransactionDone(Slot& slot, DeliveryResult&& result) {
  // Transactions end in the order they were sent.
  std::unique_ptr<Delivery> d = std::move(slot.active.front());
  slot.active.pop_front();
  ++delivered_;
  bool changed = false;
  result.reply_class = gate_->onReply(result.reply, &changed);
  if (result.reply_class == shaping::ReplyClass::kThrottle) slot.throttled = true;
  // An unchecked connection is shared by the MX names at its address, but its certificate
  // was checked against the name it was opened for: it says nothing about another's.
  if (result.tls.verified && d->current && d->current->mx_host != tls_.host) result.tls.verified = result.tls.dane = false;
  // A reused connection the server had already dropped fails before any reply: that says
  // nothing about the message, so it goes back to the queue once.
  if (result.connection_reused && noReplyAtAll(result) && d->requeues == 0 && !closing_) {
    ++d->requeues;
    if (backedOff(uv_hrtime())) {
      owner_.failOver(std::move(d), destination_.toString() + ": " + result.reason);
      return;
    }
    d->enqueued_ns = uv_hrtime();
    queue_.push_front(std::move(d));
    ++owner_.counters().queued;
    return;  // the connection's close pumps the queue
  }
  owner_.finish(std::move(d), std::move(result));
  if (changed) owner_.onSiteChanged(*gate_);  // may take this pool's queue
}

void DestinationPool::onConnectionReady(SmtpClientConnection& connection) {
  Slot* slot = slotOf(connection);
  if (!slot->ready_once) {
    slot->ready_once = true;
    --connecting_;
    if (connection.secured()) {
      ++owner_.counters().tls_handshakes;
      if (connection.tlsResumed()) ++owner_.counters().tls_resumed;
    }
  }
  if (closing_ || connection.transactions() >= limits_.max_messages_per_connection) {
    connection.quit();
    pump();
    return;
  }
  idle_.push_back(&connection);
  pump();
}

void DestinationPool::onConnectionClosed(SmtpClientConnection& connection, SmtpClientConnection::End end,
                                         const std::string& reason) {
  using End = SmtpClientConnection::End;
  Slot* slot = slotOf(connection);
  assert(slot);
  // The connection reports every transaction before it closes; should one be left, it is
  // deferred rather than lost. Those pipelined behind a throttle's 421 were never answered:
  // they wait here for the site's new rate, once.
  while (!slot->active.empty()) {
    std::unique_ptr<Delivery> d = std::move(slot->active.back());
    slot->active.pop_back();
    if (slot->throttled && !closing_ && d->requeues == 0) {
      ++d->requeues;
      d->enqueued_ns = uv_hrtime();
      queue_.push_front(std::move(d));
      ++owner_.counters().queued;
      continue;
    }
    owner_.finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, "connection closed: " + reason);
  }
  if (!slot->ready_once) --connecting_;
  idle_.erase(std::remove(idle_.begin(), idle_.end(), &connection), idle_.end());
  --owner_.counters().connections_open;
  last_active_ns_ = uv_hrtime();
  // Whatever ends a connection before it was ever ready says the destination is not taking
  // mail now: a reset before the greeting, garbage instead of one, a refusal.
  bool tls_end = end == End::kTlsFailed || end == End::kTlsUnavailable;
  bool setup_failed = !slot->ready_once || end == End::kConnectFailed || end == End::kGreetingFailed;
  if (setup_failed && !tls_end) ++owner_.counters().connection_failures;
  if (tls_end) {
    onTlsEnd(end, reason);
  } else if ((setup_failed || end == End::kServiceClosing) && !closing_ && !slot->throttled) {
    // A 421 that a transaction classified as a throttle is no refusal: the site's rate has
    // been cut instead, and the queue waits for it here.
    backOff(reason);
  }
  slots_.erase(std::find_if(slots_.begin(), slots_.end(), [slot](const auto& s) { return s.get() == slot; }));
  gate_->disconnected();  // may pump the site's other pools
  if (closing_) {
    maybeClosed();
  } else {
    pump();
  }
}

SmtpClientConnection::StartTls DestinationPool::startTlsMode() const {
  using StartTls = SmtpClientConnection::StartTls;
  if (uv_hrtime() < plain_until_ns_ || tls_.level == TlsLevel::kNone) return StartTls::kNever;
  return tls_.level == TlsLevel::kMay ? StartTls::kIfOffered : StartTls::kRequired;
}

void DestinationPool::onTlsSession(SmtpClientConnection&, SharedSslSession session) { tls_session_ = std::move(session); }

void DestinationPool::onTlsEnd(SmtpClientConnection::End end, const std::string& reason) {
  ++owner_.counters().tls_failures;
  tls_session_.reset();  // should resuming be what failed, the next handshake starts afresh
  if (closing_) return;
  if (tls_.level == TlsLevel::kMay && end == SmtpClientConnection::End::kTlsFailed) {
    // Opportunistic: the queue stays, for the next connections, in plain for one back-off
    // period; then TLS is tried again, so one reset mid-handshake does not turn a busy
    // destination's TLS off for as long as it has mail.
    uint64_t now = uv_hrtime();
    if (now >= plain_until_ns_) {
      ++owner_.counters().tls_plain_fallbacks;
      logWarn("smtp.tls_plain_fallback", {{"destination", destination_.toString()},
                                          {"reason", reason}});
    }
    // At least a minute, so that a zero back-off does not make a handshake loop of it.
    Duration plain_for = std::max<Duration>(owner_.backoff(), std::chrono::minutes(1));
    plain_until_ns_ = now + static_cast<uint64_t>(plain_for.count());
    return;
  }
  // A policy failure is a deferral with its reason, never a silent downgrade.
  backOff(std::string("TLS required (") + tlsLevelName(tls_.level) + "): " + reason);
}

void DestinationPool::backOff(const std::string& reason) {
  uint64_t now = uv_hrtime();
  if (!backedOff(now)) {
    ++owner_.counters().backoffs;
    logWarn("smtp.destination_backoff", {{"destination", destination_.toString()},
                                         {"source", source_ ? source_->host() : std::string("any")},
                                         {"for", formatDuration(owner_.backoff())},
                                         {"reason", reason}});
  }
  backoff_until_ns_ = now + static_cast<uint64_t>(owner_.backoff().count());
  // Whatever waits here goes to the next MX now rather than after the back-off.
  std::deque<std::unique_ptr<Delivery>> waiting;
  waiting.swap(queue_);
  for (auto& d : waiting) {
    --owner_.counters().queued;
    owner_.failOver(std::move(d), destination_.toString() + ": " + reason);
  }
}

DestinationPool::Slot* DestinationPool::slotOf(SmtpClientConnection& connection) {
  for (auto& s : slots_) {
    if (s->connection.get() == &connection) return s.get();
  }
  return nullptr;
}

void DestinationPool::waitFor(uint64_t nanos) {
  uint64_t ms = (nanos + 999'999) / 1'000'000;
  uv_timer_start(&timer_, onTimer, std::max<uint64_t>(ms, 1), 0);
}

void DestinationPool::onTimer(uv_timer_t* timer) { static_cast<DestinationPool*>(timer->data)->pump(); }

std::deque<std::unique_ptr<Delivery>> DestinationPool::takeQueue() {
  std::deque<std::unique_ptr<Delivery>> taken;
  taken.swap(queue_);
  owner_.counters().queued -= taken.size();
  return taken;
}

void DestinationPool::close() {
  closing_ = true;
  gate_->forget(this);
  std::deque<std::unique_ptr<Delivery>> waiting;
  waiting.swap(queue_);
  for (auto& d : waiting) {
    --owner_.counters().queued;
    owner_.finishWithoutSending(std::move(d), DeliveryOutcome::kDeferred, "shutting down");
  }
  std::vector<SmtpClientConnection*> connections;
  for (auto& s : slots_) connections.push_back(s->connection.get());
  for (SmtpClientConnection* c : connections) {
    if (c->state() == SmtpClientConnection::State::kReady) {
      c->quit();
    } else if (c->state() < SmtpClientConnection::State::kQuitting) {
      c->abort("shutting down");
    }
  }
  closer_.close({asHandle(&timer_)}, [this] {
    timer_open_ = false;
    maybeClosed();
  });
}

void DestinationPool::maybeClosed() {
  if (!closing_ || !slots_.empty() || timer_open_ || closed_reported_) return;
  closed_reported_ = true;
  owner_.onPoolClosed(*this);  // may destroy this pool
}

uint64_t DestinationPool::idleSince(uint64_t now_ns) const {
  bool idle = slots_.empty() && queue_.empty() && !backedOff(now_ns) && !closing_;
  return idle ? std::max<uint64_t>(last_active_ns_, 1) : 0;
}

DestinationStatus DestinationPool::status(uint64_t now_ns) const {
  DestinationStatus s;
  s.source = source_ ? source_->host() : std::string();
  s.site = gate_->site();
  s.destination = destination_;
  s.connections = static_cast<uint32_t>(slots_.size());
  s.idle = static_cast<uint32_t>(idle_.size());
  s.queued = queue_.size();
  s.delivered = delivered_;
  s.backed_off = backedOff(now_ns);
  return s;
}

}  // namespace lbmail::delivery
