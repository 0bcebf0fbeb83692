// The gateway's feedback side: spool, listeners and relay put together.
#include "gateway_feedback.h"

#include <chrono>

#include "lbmail/core/log.h"

namespace lbmail {

GatewayFeedback::GatewayFeedback(uv_loop_t* loop, const FeedbackSettings& settings, MetricsRegistry& metrics)
    : loop_(loop),
      settings_(settings),
      metrics_(metrics),
      repeats_(metrics.counter("lbmail_gateway_feedback_repeats_total",
                               "Unsubscribes and soft bounces already recorded: answered as before, no new event.")) {
  for (uint8_t k = 1; k <= proto::kMaxFeedbackKind; ++k) {
    events_[k] = &metrics.counter("lbmail_gateway_feedback_events_total", "Feedback events spooled, by kind.",
                                  {{"kind", proto::feedbackKindName(static_cast<proto::FeedbackKind>(k))}});
  }
  metrics.gaugeCallback("lbmail_gateway_feedback_unacknowledged", "Feedback events in the spool no initiator acknowledged yet.",
                        [this] { return spool_ ? static_cast<double>(spool_->unacknowledged().size()) : 0.0; });
}

GatewayFeedback::~GatewayFeedback() = default;

uint64_t GatewayFeedback::nowMs() {
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string GatewayFeedback::start() {
  FeedbackSpool::Limits limits;
  limits.max_unacknowledged = settings_.spool_max_events;
  // A used token is remembered while it could still verify (a day more for the day's rounding).
  limits.replay_window = settings_.token_max_age + std::chrono::hours(24);
  if (settings_.spool.empty()) return "[feedback] spool is not set";
  spool_ = std::make_unique<FeedbackSpool>(loop_, settings_.spool, limits);
  if (std::string err = spool_->open(nowMs()); !err.empty()) return err;
  relay_ = std::make_unique<FeedbackRelay>(*spool_);
  if (settings_.listen) {
    listener_ = std::make_unique<FeedbackListener>(loop_, settings_, *spool_, metrics_,
                                                   [this](std::vector<FeedbackEvent>&& e) { return store(std::move(e)); });
    if (int rc = listener_->start(); rc != 0) return "feedback listen " + settings_.listen->toString() + ": " + uv_strerror(rc);
    logInfo("gateway.feedback_listening", {{"addr", listener_->boundAddress().toString()}});
  }
  if (settings_.unsubscribe_listen) {
    UnsubscribeSettings u;
    u.http.listen = *settings_.unsubscribe_listen;
    u.tls_cert_file = settings_.unsubscribe_tls_cert;
    u.tls_key_file = settings_.unsubscribe_tls_key;
    unsubscribe_ = std::make_unique<UnsubscribeEndpoint>(
        loop_, u, metrics_, [this](std::string_view t, std::string_view s) { return recordUnsubscribe(t, s); },
        [this](std::string_view t) { return validUnsubscribe(t, nullptr); });
    if (int rc = unsubscribe_->start(); rc != 0) {
      return "unsubscribe_listen " + settings_.unsubscribe_listen->toString() + ": " + uv_strerror(rc);
    }
    logInfo("gateway.unsubscribe_listening",
            {{"addr", unsubscribe_->boundAddress().toString()}, {"https", unsubscribe_->https()}});
  }
  return "";
}

Expected<std::vector<uint64_t>, FeedbackSpool::AddError> GatewayFeedback::store(std::vector<FeedbackEvent>&& events) {
  std::vector<proto::FeedbackKind> kinds;
  for (const FeedbackEvent& e : events) kinds.push_back(e.kind);
  auto sequences = spool_->add(std::move(events));
  if (!sequences) return sequences;
  for (size_t i = 0; i < kinds.size(); ++i) {
    if ((*sequences)[i] == 0) {
      repeats_.inc();
      continue;
    }
    events_[static_cast<uint8_t>(kinds[i])]->inc();
    relay_->published((*sequences)[i]);
  }
  return sequences;
}

bool GatewayFeedback::validUnsubscribe(std::string_view token, feedback::TokenFields* fields) const {
  feedback::TokenCheck check;
  check.purpose = feedback::TokenPurpose::kUnsubscribe;
  check.today = feedback::dayOf(nowMs());
  // Unsubscribe links never expire (docs/feedback.md#tokens): a reader may click one months
  // later, and honouring it late is better than mailing on. token_max_age is for bounces.
  check.max_age_days = 0;
  auto verified = feedback::verifyToken(settings_.keys, token, check);
  if (!verified) return false;
  if (fields) *fields = *verified;
  return true;
}

UnsubscribeEndpoint::Outcome GatewayFeedback::recordUnsubscribe(std::string_view token, std::string_view source) {
  feedback::TokenFields fields;
  if (!validUnsubscribe(token, &fields)) return UnsubscribeEndpoint::Outcome::kInvalid;
  FeedbackEvent e;
  e.kind = proto::FeedbackKind::kUnsubscribe;
  e.campaign = fields.campaign;
  e.recipient = fields.recipient;
  e.attempt = fields.attempt;
  e.at_ms = nowMs();
  e.source = std::string(source.substr(0, proto::kMaxFeedbackSourceBytes));
  std::vector<FeedbackEvent> one;
  one.push_back(std::move(e));
  // A repeat (sequence 0) is answered as recorded: the reader is unsubscribed either way.
  auto seq = store(std::move(one));
  if (!seq) return UnsubscribeEndpoint::Outcome::kUnavailable;
  logInfo("gateway.unsubscribe_recorded", {{"source", source},
                                           {"campaign", uint64_t{fields.campaign}},
                                           {"recipient", fields.recipient},
                                           {"sequence", seq->front()}});
  return UnsubscribeEndpoint::Outcome::kRecorded;
}

void GatewayFeedback::linkFrame(proto::LinkConnection& link, const proto::Frame& frame) {
  if (const auto* ack = std::get_if<proto::FeedbackAckFrame>(&frame)) relay_->acknowledged(link, ack->sequence, nowMs());
}

void GatewayFeedback::writeStatus(JsonWriter& w) {
  w.key("feedback").beginObject();
  if (listener_) {
    listener_->writeStatus(w);
  } else {
    w.key("listening").value("");
  }
  w.key("unsubscribe_listening").value(unsubscribe_ ? unsubscribe_->boundAddress().toString() : std::string());
  if (spool_) {
    w.key("unacknowledged").value(static_cast<uint64_t>(spool_->unacknowledged().size()));
    w.key("spool_bytes").value(spool_->fileBytes());
    w.key("spool_compactions").value(spool_->compactions());
    w.key("spool_write_failures").value(spool_->writeFailures());
    w.key("repeats").value(repeats_.value());
  }
  if (relay_) {
    w.key("pending").value(static_cast<uint64_t>(relay_->pending()));
    w.key("in_flight").value(static_cast<uint64_t>(relay_->inFlight()));
    w.key("feedback_links").value(static_cast<uint64_t>(relay_->feedbackLinks()));
  }
  w.key("events").beginObject();
  for (uint8_t k = 1; k <= proto::kMaxFeedbackKind; ++k) {
    w.key(proto::feedbackKindName(static_cast<proto::FeedbackKind>(k))).value(events_[k]->value());
  }
  w.endObject();
  w.endObject();
}

void GatewayFeedback::close(std::function<void()> done) {
  auto after_unsubscribe = [this, done = std::move(done)]() mutable {
    if (spool_) return spool_->close(std::move(done));
    done();
  };
  auto after_listener = [this, after_unsubscribe = std::move(after_unsubscribe)]() mutable {
    if (unsubscribe_) return unsubscribe_->close(std::move(after_unsubscribe));
    after_unsubscribe();
  };
  if (listener_) return listener_->close(std::move(after_listener));
  after_listener();
}

}  // namespace lbmail
