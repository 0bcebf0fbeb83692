// The feedback listener: connections, the memory their bodies hold, and storing events.
#include "feedback_listener.h"

#include <chrono>

#include "lbmail/core/log.h"

namespace lbmail {
namespace {

FeedbackIntakeSettings intakeSettingsOf(const FeedbackSettings& s) {
  FeedbackIntakeSettings i;
  i.keys = s.keys;
  i.bounce_domains = s.bounce_domains;
  i.feedback_addresses = s.feedback_addresses;
  i.max_age_days = static_cast<uint16_t>(std::chrono::duration_cast<std::chrono::hours>(s.token_max_age).count() / 24);
  return i;
}

}  // namespace

FeedbackListener::FeedbackListener(uv_loop_t* loop, const FeedbackSettings& settings, const FeedbackSpool& spool,
                                   MetricsRegistry& metrics, Store store)
    : loop_(loop),
      settings_(settings),
      intake_settings_(intakeSettingsOf(settings)),
      spool_(spool),
      metrics_(metrics),
      store_(std::move(store)),
      listener_(loop, "gateway.feedback"),
      read_buffer_(64 * 1024),
      connections_refused_(metrics.counter("lbmail_gateway_feedback_connections_refused_total",
                                           "Feedback SMTP connections refused over max_connections.")),
      unattributed_total_(metrics.counter("lbmail_gateway_feedback_unattributed_total",
                                          "Complaints at a feedback address naming no valid token: no event.")),
      spool_full_(metrics.counter("lbmail_gateway_feedback_spool_refusals_total",
                                  "Messages answered 452 or 451: the spool was full or could not be written.")) {
  metrics.gaugeCallback("lbmail_gateway_feedback_connections", "Feedback SMTP connections open.",
                        [this] { return static_cast<double>(sessions_.size()); });
}

FeedbackListener::~FeedbackListener() = default;

uint64_t FeedbackListener::nowMs() const {
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

int FeedbackListener::start() {
  return listener_.listen(*settings_.listen, [this](uv_stream_t* s) { onConnection(s); });
}

void FeedbackListener::onConnection(uv_stream_t* server) {
  sessions_.push_back(std::make_unique<FeedbackSession>(*this));
  FeedbackSession& session = *sessions_.back();
  if (!session.start(server, std::prev(sessions_.end()))) return;
  if (closing_ || sessions_.size() > settings_.max_connections) {
    connections_refused_.inc();
    session.refuse(closing_ ? "Shutting down" : "Too many connections, try again later");
    return;
  }
  session.greet();
}

bool FeedbackListener::reserveBody(size_t bytes) {
  if (kept_bytes_ + bytes > settings_.max_kept_bytes) return false;
  kept_bytes_ += bytes;
  return true;
}

void FeedbackListener::releaseBody(size_t bytes) { kept_bytes_ -= std::min<uint64_t>(bytes, kept_bytes_); }

void FeedbackListener::countRefusal(const std::string& reason) {
  ++refused_;
  metrics_.counter("lbmail_gateway_feedback_refused_total", "Feedback recipients refused at RCPT, by reason.",
                   {{"reason", reason}}).inc();
}

smtp::SmtpServerProtocol::Decision FeedbackListener::take(FeedbackIntake::Result& result, const std::string& client) {
  ++messages_;
  const char* type = feedback::reportTypeName(result.type);
  metrics_.counter("lbmail_gateway_feedback_messages_total", "Messages received by the feedback listener, by report type.",
                   {{"type", type}}).inc();
  if (result.unattributed) {
    ++unattributed_;
    unattributed_total_.inc();
  }
  size_t count = result.events.size();
  auto stored = store_(std::move(result.events));
  if (!stored) {
    spool_full_.inc();
    bool full = stored.error() == FeedbackSpool::AddError::kFull;
    logWarn("gateway.feedback_spool_refused", {{"client", client}, {"error", full ? "full" : "write failed"}});
    // RFC 3463: 4.3.1 mail system full; the sender keeps the report and tries again. Nothing
    // of the message was written, so the retry adds each event once.
    if (full) return {452, "4.3.1", "Feedback spool full, try again later"};
    return {451, "4.3.0", "Cannot store the report now, try again later"};
  }
  std::string sequences;
  for (uint64_t seq : *stored) sequences += (sequences.empty() ? "" : ",") + std::to_string(seq);
  logInfo("gateway.feedback_received", {{"client", client},
                                        {"type", type},
                                        {"events", static_cast<uint64_t>(count)},
                                        {"sequences", sequences}});
  return {250, "2.0.0", count == 0 ? "Ok: no event" : "Ok: recorded"};
}

void FeedbackListener::sessionClosed(FeedbackSession& session) {
  sessions_.erase(session.handle());
  maybeDone();
}

void FeedbackListener::close(std::function<void()> done) {
  closing_ = true;
  close_done_ = std::move(done);
  listener_.close([this] {
    listener_closed_ = true;
    maybeDone();
  });
  // close() may finish a session at once: iterate over a copy of the pointers.
  std::vector<FeedbackSession*> open;
  for (auto& s : sessions_) open.push_back(s.get());
  for (FeedbackSession* s : open) s->close();
}

void FeedbackListener::maybeDone() {
  if (closing_ && listener_closed_ && sessions_.empty() && close_done_) std::exchange(close_done_, nullptr)();
}

void FeedbackListener::writeStatus(JsonWriter& w) {
  w.key("listening").value(listener_.boundAddress().toString());
  w.key("connections").value(static_cast<uint64_t>(sessions_.size()));
  w.key("messages").value(messages_);
  w.key("refused_recipients").value(refused_);
  w.key("unattributed").value(unattributed_);
  w.key("kept_bytes").value(kept_bytes_);
}

}  // namespace lbmail
